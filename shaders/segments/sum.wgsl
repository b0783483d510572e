// Stage 1 of a deterministic segmented sum: workgroup (tile, chunk) adds the
// FT values j of its tile over the pixels p of its chunk, per segment
// `segment_of(p)` (negative: skipped), and counts the pixels of each segment.
// Each invocation owns VEC values (one unit: `segment_units(p, q)` is values
// VEC q .. VEC q + VEC - 1, an f32 or a vec4; units_f32.wgsl, units_vec4.wgsl)
// and one unit column of the workgroup accumulator, so there are no races and
// no atomics: each value's sum runs over the chunk's pixels in order, the
// result is bit-reproducible and the same in both forms. On llvmpipe the
// segment every lane reads and the accumulator's read-modify-write cost a
// gather and a scatter per SIMD row and pixel: the vec4 form makes a quarter
// of them. The including kernel defines `segment_of` and the values.
// partials: [chunks, SEGMENTS, values + 1] (the last column is the count).
const QT: u32 = FT / VEC;
var<workgroup> acc: array<V, SEGMENTS * QT>;
var<workgroup> counted: array<f32, SEGMENTS>;

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tile = wid.x;
  let chunk = wid.y;
  let q = tile * QT + lid.x;
  let in_tile = VEC * q < params.values;
  for (var s = 0u; s < SEGMENTS; s++) { acc[s * QT + lid.x] = V(0.0); }
  let counter = tile == 0u && lid.x == 0u;
  if (counter) { for (var s = 0u; s < SEGMENTS; s++) { counted[s] = 0.0; } }
  let begin = chunk * params.chunk;
  let end = min(begin + params.chunk, params.pixels);
  for (var p = begin; p < end; p++) {
    let s = segment_of(p);
    if (s < 0i) { continue; }
    if (in_tile) { acc[u32(s) * QT + lid.x] += segment_units(p, q); }
    if (counter) { counted[u32(s)] += 1.0; }
  }
  let stride = params.values + 1u;
  for (var s = 0u; s < SEGMENTS; s++) {
    let at = (chunk * SEGMENTS + s) * stride;
    if (in_tile) { store_partial(at + VEC * q, acc[s * QT + lid.x]); }
    if (counter) { partials[at + params.values] = counted[s]; }
  }
}
