// Second pass of a split-K reduction: out[i] = sum over s of partial[s * size + i],
// or with accumulate = 1, out[i] = out[i] + that sum (the gradient added into
// an existing one, rounded exactly as a separate add would).
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.size) { return; }
  var total = 0.0;
  for (var s = 0u; s < params.splits; s++) { total += partial[s * params.size + i]; }
  if (params.accumulate == 1u) { total = out[i] + total; }
  out[i] = total;
}
