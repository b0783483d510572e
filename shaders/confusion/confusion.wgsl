// Streaming confusion matrix, one pixel per invocation straight into global
// atomics. Integer atomics keep the counts exact and order-independent.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  let cell = cellOf(p);
  if (cell == IGNORED) { return; }
  if (cell == params.classes * params.classes) {
    atomicAdd(&bad[0], 1u);
  } else {
    atomicAdd(&confusion[cell], 1u);
  }
}
