// Stage 1 of a deterministic segmented sum: workgroup (tile, chunk) adds
// `segment_value(p, j)` for the FT values j of its tile over the pixels p of
// its chunk, per segment `segment_of(p)` (negative: skipped), and counts the
// pixels of each segment. Each invocation owns one column of the workgroup
// accumulator, so there are no races and no atomics: the order of the sums is
// fixed and the result bit-reproducible. The including kernel defines
// `segment_of` and `segment_value`.
// partials: [chunks, SEGMENTS, values + 1] (the last column is the count).
var<workgroup> acc: array<f32, SEGMENTS * FT>;
var<workgroup> counted: array<f32, SEGMENTS>;

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tile = wid.x;
  let chunk = wid.y;
  let j = tile * FT + lid.x;
  let in_tile = j < params.values;
  for (var s = 0u; s < SEGMENTS; s++) { acc[s * FT + lid.x] = 0.0; }
  let counter = tile == 0u && lid.x == 0u;
  if (counter) { for (var s = 0u; s < SEGMENTS; s++) { counted[s] = 0.0; } }
  let begin = chunk * params.chunk;
  let end = min(begin + params.chunk, params.pixels);
  for (var p = begin; p < end; p++) {
    let s = segment_of(p);
    if (s < 0i) { continue; }
    if (in_tile) { acc[u32(s) * FT + lid.x] += segment_value(p, j); }
    if (counter) { counted[u32(s)] += 1.0; }
  }
  let stride = params.values + 1u;
  for (var s = 0u; s < SEGMENTS; s++) {
    let at = (chunk * SEGMENTS + s) * stride;
    if (in_tile) { partials[at + j] = acc[s * FT + lid.x]; }
    if (counter) { partials[at + params.values] = counted[s]; }
  }
}
