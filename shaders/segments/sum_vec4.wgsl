// sum.wgsl with each invocation owning a quad of the tile's FT values
// (values a multiple of 4, FT of 4 or more): `segment_value4(p, q)` is values
// 4q .. 4q + 3 of pixel p. Each value's sum still runs over the chunk's
// pixels in order, so partials (and totals) are sum.wgsl's bit for bit,
// with a quarter of the invocations, loads and accumulator updates: on
// llvmpipe the segment every lane reads and the accumulator's read-modify-
// write cost a gather and a scatter per SIMD row and pixel.
// partials: [chunks, SEGMENTS, values + 1] (the last column is the count).
const QT: u32 = FT / 4u;
var<workgroup> acc: array<vec4<f32>, SEGMENTS * QT>;
var<workgroup> counted: array<f32, SEGMENTS>;

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tile = wid.x;
  let chunk = wid.y;
  let q = tile * QT + lid.x;
  let in_tile = 4u * q < params.values;
  for (var s = 0u; s < SEGMENTS; s++) { acc[s * QT + lid.x] = vec4<f32>(0.0); }
  let counter = tile == 0u && lid.x == 0u;
  if (counter) { for (var s = 0u; s < SEGMENTS; s++) { counted[s] = 0.0; } }
  let begin = chunk * params.chunk;
  let end = min(begin + params.chunk, params.pixels);
  for (var p = begin; p < end; p++) {
    let s = segment_of(p);
    if (s < 0i) { continue; }
    if (in_tile) { acc[u32(s) * QT + lid.x] += segment_value4(p, q); }
    if (counter) { counted[u32(s)] += 1.0; }
  }
  let stride = params.values + 1u;
  for (var s = 0u; s < SEGMENTS; s++) {
    let at = (chunk * SEGMENTS + s) * stride;
    if (in_tile) {
      let v = acc[s * QT + lid.x];
      partials[at + 4u * q] = v.x;
      partials[at + 4u * q + 1u] = v.y;
      partials[at + 4u * q + 2u] = v.z;
      partials[at + 4u * q + 3u] = v.w;
    }
    if (counter) { partials[at + params.values] = counted[s]; }
  }
}
