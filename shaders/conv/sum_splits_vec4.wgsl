// sum_splits.wgsl four elements at a time (size counts quads): the same
// additions in the same order, so the results are bit-identical.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.size) { return; }
  var total = vec4<f32>(0.0);
  for (var s = 0u; s < params.splits; s++) { total += load_partial(s * params.size + i); }
  if (params.accumulate == 1u) { total = out[i] + total; }
  out[i] = total;
}
