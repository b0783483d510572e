// onehot[c, p] = scale_c where targets[p] == c (c < classes), else 0: the
// transposed, optionally count-normalised indicator that turns per-class
// sums and means into one matrix product. scale_c = 1 / counts[c] when
// NORMALISE is 1 (0 for an absent class), else 1.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * WG_X;
  if (i >= params.pixels * params.classes) { return; }
  let c = i / params.pixels;
  let p = i - c * params.pixels;
  var v = 0.0;
  if (targets[p] == i32(c)) {
    v = 1.0;
    if (NORMALISE == 1u) { v = select(0.0, 1.0 / counts[c], counts[c] > 0.0); }
  }
  onehot[i] = v;
}
