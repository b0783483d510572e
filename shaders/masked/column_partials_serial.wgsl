// Stage 1 of a column reduction without workgroup memory, for CPU adapters
// (llvmpipe runs a kernel with barriers as one coroutine per invocation):
// invocation (c, g) sums rows [g * chunk, (g + 1) * chunk) of column c in
// order, each weighted by its mask (1 without one); column c == cols sums the
// weights. partials are laid out [cols + 1, groups], as column_partials.wgsl's.
fn row_weight(r: u32) -> f32 {
  if (HAS_MASK == 0u) { return 1.0; }
  return mask_weight(r);
}

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= (params.cols + 1u) * params.groups) { return; }
  let col = i / params.groups;
  let g = i - col * params.groups;
  let start = g * params.chunk;
  let end = min(start + params.chunk, params.rows);
  var acc = 0.0;
  for (var r = start; r < end; r++) {
    let w = row_weight(r);
    if (col == params.cols) {
      acc += w;
    } else if (w != 0.0) {
      // Rows with weight 0 are skipped, so a masked-out NaN or Inf cannot leak in.
      acc += w * x[r * params.cols + col];
    }
  }
  partials[i] = acc;
}
