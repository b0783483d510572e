// sum_splits_vec4.wgsl for many gradients in one dispatch. Entry e of the
// table (ENTRY_WORDS words: its first quad on the dispatch's run of quads, a
// multiple of RUN; its size in quads; the first quad of its partial slices;
// the first quad of its output; its splits) reduces `splits` slices of `size`
// quads into out, added to what out holds: the same additions in the same
// order as one sum_splits_vec4 dispatch with accumulate = 1, so the results
// are bit-identical. An invocation sums RUN consecutive quads of one entry
// (the entries' runs are padded to whole RUNs), so that the table is searched
// once for RUN quads.
const ENTRY_WORDS = 5u;
const RUN = 4u;

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let first = linear_index(gid, groups) * RUN;
  if (first >= params.total) { return; }
  // The last entry whose first quad is at or before `first` (entries are in order).
  var lo = 0u;
  var hi = params.entries - 1u;
  while (lo < hi) {
    let mid = (lo + hi + 1u) / 2u;
    if (table[mid * ENTRY_WORDS] <= first) { lo = mid; } else { hi = mid - 1u; }
  }
  let entry = lo * ENTRY_WORDS;
  let q0 = first - table[entry];
  let size = table[entry + 1u];
  let partial_start = table[entry + 2u];
  let out_start = table[entry + 3u];
  let splits = table[entry + 4u];
  for (var k = 0u; k < RUN; k++) {
    let q = q0 + k;
    if (q >= size) { return; }
    var total = vec4<f32>(0.0);
    for (var s = 0u; s < splits; s++) { total += load_partial(partial_start + s * size + q); }
    out[out_start + q] = out[out_start + q] + total;
  }
}
