// L2-normalisation over channels: y = a / max(|a|, eps), one pixel per
// invocation, its channels read and written as V (units_f32.wgsl / units_vec4.wgsl).
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  let units = params.channels / VEC;
  let base = p * units;
  var s = 0.0;
  for (var k = 0u; k < units; k++) { s = add_products(s, a[base + k], a[base + k]); }
  let inv = 1.0 / max(sqrt(s), params.eps);
  for (var k = 0u; k < units; k++) { y[base + k] = a[base + k] * inv; }
}
