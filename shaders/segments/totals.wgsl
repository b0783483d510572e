// Stage 2 of the segmented sum: one invocation per (segment, column) adds the
// chunks' partials in chunk order. Columns < values go to sums [SEGMENTS,
// values], the count column to counts [SEGMENTS] (u32 or f32, `Count`); ACCUMULATE == 1 adds
// into them instead of overwriting (prototypes accumulate across batches).
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let stride = params.values + 1u;
  let i = gid.x;
  if (i >= params.segments * stride) { return; }
  let s = i / stride;
  let j = i - s * stride;
  var total = 0.0;
  for (var c = 0u; c < params.chunks; c++) {
    total += partials[(c * params.segments + s) * stride + j];
  }
  if (j < params.values) {
    let at = s * params.values + j;
    sums[at] = select(total, sums[at] + total, ACCUMULATE == 1u);
  } else {
    counts[s] = select(Count(total), counts[s] + Count(total), ACCUMULATE == 1u);
  }
}
