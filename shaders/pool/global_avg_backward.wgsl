// Gradient of global average pooling: dx[n, h, w, c] = dy[n, c] / (H * W).
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.batch * params.pixels * params.channels) { return; }
  let c = i % params.channels;
  let n = i / (params.pixels * params.channels);
  dx[i] = dy[n * params.channels + c] / f32(params.pixels);
}
