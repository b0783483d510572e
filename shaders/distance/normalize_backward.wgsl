// Gradient of y = a / max(|a|, eps): da = (g - y <y, g>) / |a| where |a| > eps,
// and g / eps below it (the norm is then the constant eps). Channels as V
// (units_f32.wgsl / units_vec4.wgsl), summed in channel order.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  let units = params.channels / VEC;
  let base = p * units;
  var s = 0.0;
  for (var k = 0u; k < units; k++) { s = add_products(s, a[base + k], a[base + k]); }
  let norm = sqrt(s);
  if (norm <= params.eps) {
    for (var k = 0u; k < units; k++) { da[base + k] = g[base + k] / params.eps; }
    return;
  }
  let inv = 1.0 / norm;
  var yg = 0.0;
  for (var k = 0u; k < units; k++) { yg = add_products(yg, a[base + k] * inv, g[base + k]); }
  for (var k = 0u; k < units; k++) {
    da[base + k] = (g[base + k] - a[base + k] * inv * yg) * inv;
  }
}
