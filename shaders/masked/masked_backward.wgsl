// Gradient of a masked column sum / mean of x [rows, cols]:
// dx[r, c] = grad[c] * w(r) (sum), or grad[c] * w(r) / sum(w) (mean).
fn row_weight(r: u32) -> f32 {
  if (HAS_MASK == 0u) { return 1.0; }
  return mask_weight(r);
}

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.rows * params.cols) { return; }
  let r = i / params.cols;
  let c = i - r * params.cols;
  var g = grad[c] * row_weight(r);
  if (MEAN == 1u) {
    let den = totals[params.cols];
    g = select(g / den, 0.0, den == 0.0);
  }
  dx[i] = g;
}
