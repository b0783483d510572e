// Bilinear resize of an NHWC tensor, one invocation per output element:
// Elem is f32 (one channel) or vec4<f32> (four channels; `channels` then
// counts quads), the same arithmetic per channel.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let o = linear_index(gid, groups);
  let c_count = params.channels;
  if (o >= params.batch * params.out_h * params.out_w * c_count) { return; }
  let c = o % c_count;
  let t = pixel_taps(o / c_count, c_count);
  let top = t.tx.w0 * load_x(t.a + c) + t.tx.w1 * load_x(t.b + c);
  let bottom = t.tx.w0 * load_x(t.d + c) + t.tx.w1 * load_x(t.e + c);
  y[o] = t.ty.w0 * top + t.ty.w1 * bottom;
}
