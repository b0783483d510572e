// embed.wgsl on channel quads (channels a multiple of 4): one invocation
// per four embedding values, those of channels 4q .. 4q + 3 at the same
// position of a strip, summed from vec4 loads of the map. Each channel's sum
// runs over the same elements in the same order as the scalar kernel's, so
// the embedding is bit-identical.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  let quads_total = params.dims / 4u;
  if (i >= params.images * quads_total) { return; }
  let n = i / quads_total;
  let d4 = i % quads_total;
  // The last strip starting at or before d4, by bisection (offsets rise
  // strictly; they are multiples of the channel count, so of 4).
  var s = 0u;
  var hi = params.strips - 1u;
  while (s < hi) {
    let mid = (s + hi + 1u) / 2u;
    if (seg(mid, 0u) / 4u <= d4) { s = mid; } else { hi = mid - 1u; }
  }
  let local4 = d4 - seg(s, 0u) / 4u;
  let y0 = seg(s, 2u);
  let y1 = seg(s, 3u);
  let x0 = seg(s, 4u);
  let x1 = seg(s, 5u);
  let cq = params.channels / 4u;
  let w = params.width;
  // Kind 0 averages a (channel, row) over the columns, kind 1 a (channel,
  // column) over the rows; `len` positions a channel along the strip.
  let rows = seg(s, 1u) == 0u;
  let len = select(x1 - x0, y1 - y0, rows);
  let q = local4 / len;
  let r = local4 % len;
  var sum = vec4<f32>(0.0);
  if (rows) {
    let y = y0 + r;
    for (var x = x0; x < x1; x++) { sum += prepro4(map[((n * params.height + y) * w + x) * cq + q]); }
    sum = sum / f32(x1 - x0);
  } else {
    let x = x0 + r;
    for (var y = y0; y < y1; y++) { sum += prepro4(map[((n * params.height + y) * w + x) * cq + q]); }
    sum = sum / f32(y1 - y0);
  }
  let at = n * params.dims + seg(s, 0u) + 4u * q * len + r;
  emb[at] = sum.x;
  emb[at + len] = sum.y;
  emb[at + 2u * len] = sum.z;
  emb[at + 3u * len] = sum.w;
}

fn prepro4(v: vec4<f32>) -> vec4<f32> {
  if (POW == 1u) { return v * v; }
  return v;
}
