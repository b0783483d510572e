// embed_backward.wgsl on channel quads (channels a multiple of 4): one
// invocation per four map elements (channels 4q .. 4q + 3 of a pixel), which
// visits only the strips covering the pixel: per scale (the table's scale
// records follow its strips: the scale's first strip, its regions per side s
// and their side k) the two of its region. Each channel adds the same terms
// in the same strip order as the scalar kernel, so the gradient is
// bit-identical.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  let cq = params.channels / 4u;
  let w = params.width;
  let h = params.height;
  if (i >= params.images * h * w * cq) { return; }
  let q = i % cq;
  let x = (i / cq) % w;
  let y = (i / (cq * w)) % h;
  let n = i / (cq * w * h);
  let ebase = n * params.dims;
  var g = vec4<f32>(0.0);
  // The strips covering the pixel, in the table's order: at each scale the
  // two strips (rows, columns) of its region (y / k, x / k), if it has one
  // (region (i, j) spans [i k, min((i + 1) k, H)) x [j k, min((j + 1) k, W))).
  for (var t = 0u; t < params.scale_count; t++) {
    let record = 6u * params.strips + 3u * t;
    let count = segments[record + 1u];
    let k = segments[record + 2u];
    let i = y / k;
    let j = x / k;
    if (i >= count || j >= count) { continue; }
    let first = segments[record] + 2u * (i * count + j);
    for (var s = first; s < first + 2u; s++) {
      let y0 = seg(s, 2u);
      let y1 = seg(s, 3u);
      let x0 = seg(s, 4u);
      let x1 = seg(s, 5u);
      let off = ebase + seg(s, 0u);
      if (seg(s, 1u) == 0u) {
        let len = y1 - y0;
        let at = off + 4u * q * len + (y - y0);
        g += vec4<f32>(gemb[at], gemb[at + len], gemb[at + 2u * len], gemb[at + 3u * len]) /
          f32(x1 - x0);
      } else {
        let len = x1 - x0;
        let at = off + 4u * q * len + (x - x0);
        g += vec4<f32>(gemb[at], gemb[at + len], gemb[at + 2u * len], gemb[at + 3u * len]) /
          f32(y1 - y0);
      }
    }
  }
  if (POW == 1u) { g = g * 2.0 * map[i]; }
  dmap[i] = g;
}
