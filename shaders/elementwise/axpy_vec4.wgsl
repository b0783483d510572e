// axpy.wgsl four elements at a time (`n` and `x_period` count quads; the
// period is a multiple of 4 elements): the same arithmetic on each component,
// bit-identical results. `x` and the old `y` are read through load_x / read_y:
// the buffers, or (llvmpipe without AVX-512 code) texture copies.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.n) { return; }
  y[i] = read_y(i) + params.alpha * load_x(i % params.x_period);
}
