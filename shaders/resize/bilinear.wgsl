// Bilinear resize of an NHWC tensor, one invocation per output element:
// Elem is f32 (one channel) or vec4<f32> (four channels; `channels` then
// counts quads), the same arithmetic per channel.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let o = linear_index(gid, groups);
  let c_count = params.channels;
  if (o >= params.batch * params.out_h * params.out_w * c_count) { return; }
  let c = o % c_count;
  let pixel = o / c_count;
  let ox = pixel % params.out_w;
  let rest = pixel / params.out_w;
  let oy = rest % params.out_h;
  let n = rest / params.out_h;
  let ty = taps_of(oy, params.in_h, params.scale_h);
  let tx = taps_of(ox, params.in_w, params.scale_w);
  let base = n * params.in_h;
  let row0 = (base + ty.i0) * params.in_w;
  let row1 = (base + ty.i1) * params.in_w;
  let top = tx.w0 * load_x((row0 + tx.i0) * c_count + c) + tx.w1 * load_x((row0 + tx.i1) * c_count + c);
  let bottom = tx.w0 * load_x((row1 + tx.i0) * c_count + c) + tx.w1 * load_x((row1 + tx.i1) * c_count + c);
  y[o] = ty.w0 * top + ty.w1 * bottom;
}
