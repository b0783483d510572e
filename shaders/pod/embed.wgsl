// Local POD embedding [N, D] of a map x [N, H, W, C], one embedding value per
// invocation: find its strip, then average the pre-processed map along it.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  let d_total = params.dims;
  if (i >= params.images * d_total) { return; }
  let n = i / d_total;
  let d = i % d_total;
  var s = 0u;
  while (s + 1u < params.strips && seg(s + 1u, 0u) <= d) { s++; }
  let local = d - seg(s, 0u);
  let y0 = seg(s, 2u);
  let y1 = seg(s, 3u);
  let x0 = seg(s, 4u);
  let x1 = seg(s, 5u);
  let c = params.channels;
  let w = params.width;
  var sum = 0.0;
  if (seg(s, 1u) == 0u) {
    let rows = y1 - y0;
    let ch = local / rows;
    let y = y0 + local % rows;
    for (var x = x0; x < x1; x++) { sum += prepro(map[((n * params.height + y) * w + x) * c + ch]); }
    emb[i] = sum / f32(x1 - x0);
  } else {
    let cols = x1 - x0;
    let ch = local / cols;
    let x = x0 + local % cols;
    for (var y = y0; y < y1; y++) { sum += prepro(map[((n * params.height + y) * w + x) * c + ch]); }
    emb[i] = sum / f32(y1 - y0);
  }
}
