// Binary cross-entropy with logits, per element: max(x, 0) - x y + log(1 + e^-|x|),
// the form that neither overflows nor loses the small-loss tail for large |x|.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * WG_X;
  if (i >= params.n) { return; }
  let x = logits[i];
  out[i] = max(x, 0.0) - x * targets[i] + log(1.0 + exp(-abs(x)));
}
