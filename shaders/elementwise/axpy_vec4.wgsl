// axpy.wgsl four elements at a time (`n` and `x_period` count quads; the
// period is a multiple of 4 elements): the same arithmetic on each component,
// bit-identical results.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.n) { return; }
  y[i] = y[i] + params.alpha * x[i % params.x_period];
}
