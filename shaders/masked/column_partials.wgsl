// Stage 1 of a column reduction of x viewed as [rows, cols]. Workgroup (g, c)
// sums rows [g * chunk, (g + 1) * chunk) of column c, each row weighted by its
// mask (1 without one); column c == cols sums the weights themselves, so the
// last total is the mask's sum (the row count without a mask). A tree
// reduction in workgroup memory keeps the sum order fixed (deterministic).
var<workgroup> partial: array<f32, WG_X>;

fn row_weight(r: u32) -> f32 {
  if (HAS_MASK == 0u) { return 1.0; }
  return mask_weight(r);
}

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let col = wid.y;
  let start = wid.x * params.chunk;
  let end = min(start + params.chunk, params.rows);
  var acc = 0.0;
  for (var r = start + lid.x; r < end; r += WG_X) {
    let w = row_weight(r);
    if (col == params.cols) {
      acc += w;
    } else if (w != 0.0) {
      // Rows with weight 0 are skipped, so a masked-out NaN or Inf cannot leak in.
      acc += w * x[r * params.cols + col];
    }
  }
  partial[lid.x] = acc;
  workgroupBarrier();
  for (var stride = WG_X / 2u; stride > 0u; stride = stride / 2u) {
    if (lid.x < stride) { partial[lid.x] = partial[lid.x] + partial[lid.x + stride]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { partials[col * params.groups + wid.x] = partial[0]; }
}
