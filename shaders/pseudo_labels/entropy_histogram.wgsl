// PLOP's find_median histogram: every pixel labelled 0 adds one to bin
// min(trunc(entropy * bins), bins - 1) of its old argmax class.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  if (labels[p] != 0i) { return; }
  let cert = certainty(p);
  let bin = clamp(i32(trunc(cert.entropy * f32(params.bins))), 0i, i32(params.bins) - 1i);
  atomicAdd(&histogram[cert.argmax * params.bins + u32(bin)], 1u);
}
