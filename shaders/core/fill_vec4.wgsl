// fill.wgsl a quad per invocation for f32 tensors (`n` counts quads; the
// value is never NaN, so the bits stored are the bits given).
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.n) { return; }
  out[i] = vec4<f32>(bitcast<f32>(params.bits));
}
