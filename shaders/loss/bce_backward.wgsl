// Gradient of BCE with logits: dx = u * (sigmoid(x) - y), u from upstream.wgsl.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.n) { return; }
  let x = logits[i];
  // Both branches avoid exp of a large positive number.
  let e = exp(-abs(x));
  let sigmoid = select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
  dx[i] = upstream(i) * (sigmoid - targets[i]);
}
