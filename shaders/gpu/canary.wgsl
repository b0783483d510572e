// Counts the words of a poisoned buffer's slack (the bytes past its tensor)
// that no longer hold the poison pattern: a kernel wrote out of bounds.
// counts[0] += changed words; counts[1] = the largest offending buffer size.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.count) { return; }
  if (data[params.first + i] != params.pattern) {
    atomicAdd(&counts[0], 1u);
    atomicMax(&counts[1], params.buffer_bytes);
  }
}
