// Gradient of the local POD embedding with respect to the map, one map
// element per invocation: every strip covering the pixel passes back its
// value's gradient over the strip's averaging length, times d prepro / dx.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  let c = params.channels;
  let w = params.width;
  let h = params.height;
  if (i >= params.images * h * w * c) { return; }
  let ch = i % c;
  let x = (i / c) % w;
  let y = (i / (c * w)) % h;
  let n = i / (c * w * h);
  let ebase = n * params.dims;
  var g = 0.0;
  for (var s = 0u; s < params.strips; s++) {
    let y0 = seg(s, 2u);
    let y1 = seg(s, 3u);
    let x0 = seg(s, 4u);
    let x1 = seg(s, 5u);
    if (y < y0 || y >= y1 || x < x0 || x >= x1) { continue; }
    let off = ebase + seg(s, 0u);
    if (seg(s, 1u) == 0u) {
      g += gemb[off + ch * (y1 - y0) + (y - y0)] / f32(x1 - x0);
    } else {
      g += gemb[off + ch * (x1 - x0) + (x - x0)] / f32(y1 - y0);
    }
  }
  if (POW == 1u) { g = g * 2.0 * map[i]; }
  dmap[i] = g;
}
