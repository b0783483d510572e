// Per-pixel distance between a and b [P, C] over channels, one pixel per
// invocation. OP: 0 squared L2 sum_c (a - b)^2, 1 L2 (its square root),
// 2 cosine distance 1 - <a, b> / (max(|a|, eps) max(|b|, eps)).
// Channels are read as V (units_f32.wgsl, or units_vec4.wgsl's vec4 when C % 4 == 0), summed
// in channel order either way.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  let units = params.channels / VEC;
  let base = p * units;
  var r = 0.0;
  if (OP == 2u) {
    var ab = 0.0;
    var aa = 0.0;
    var bb = 0.0;
    for (var k = 0u; k < units; k++) {
      let x = a[base + k];
      let y = b[base + k];
      ab = add_products(ab, x, y);
      aa = add_products(aa, x, x);
      bb = add_products(bb, y, y);
    }
    r = 1.0 - ab / (max(sqrt(aa), params.eps) * max(sqrt(bb), params.eps));
  } else {
    for (var k = 0u; k < units; k++) {
      let d = a[base + k] - b[base + k];
      r = add_products(r, d, d);
    }
    if (OP == 1u) { r = sqrt(r); }
  }
  out[p] = r;
}
