// Gradients of the per-pixel distances (distance_forward.wgsl) with respect
// to both inputs, scaled by the pixel's upstream gradient u (upstream.wgsl):
//   squared L2: da = 2 u (a - b)             db = -da
//   L2:         da = u (a - b) / |a - b|     db = -da   (0 where a = b)
//   cosine:     da = -u (b / (na nb) - [|a| > eps] cos a / na^2), likewise db,
// with na = max(|a|, eps): below eps the norm is the constant eps.
// Channels are read and written as V (units_f32.wgsl / units_vec4.wgsl), summed in channel order.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  let units = params.channels / VEC;
  let base = p * units;
  let u = upstream(p);
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
    let la = sqrt(aa);
    let lb = sqrt(bb);
    let na = max(la, params.eps);
    let nb = max(lb, params.eps);
    let inv = 1.0 / (na * nb);
    let cosine = ab * inv;
    let sa = select(0.0, cosine / (na * na), la > params.eps);
    let sb = select(0.0, cosine / (nb * nb), lb > params.eps);
    for (var k = 0u; k < units; k++) {
      let x = a[base + k];
      let y = b[base + k];
      da[base + k] = -u * (y * inv - sa * x);
      db[base + k] = -u * (x * inv - sb * y);
    }
    return;
  }
  var scale = 2.0 * u;
  if (OP == 1u) {
    var s = 0.0;
    for (var k = 0u; k < units; k++) {
      let d = a[base + k] - b[base + k];
      s = add_products(s, d, d);
    }
    let norm = sqrt(s);
    scale = select(u / norm, 0.0, norm == 0.0);
  }
  for (var k = 0u; k < units; k++) {
    let g = scale * (a[base + k] - b[base + k]);
    da[base + k] = g;
    db[base + k] = -g;
  }
}
