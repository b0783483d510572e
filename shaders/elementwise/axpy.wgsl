// y[i] = y[i] + alpha * x[i % x_period], in place: gradient accumulation and
// optimizer updates (a read and a write binding may not share a buffer).
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.n) { return; }
  y[i] = y[i] + params.alpha * x[i % params.x_period];
}
