// bilinear.wgsl with one invocation per output pixel over all its channels:
// the divisions that locate the pixel and its taps are done once a pixel, not
// once a channel. Each channel's arithmetic is bilinear.wgsl's, so the
// results are bit-identical. Elem is f32 or vec4<f32> (`channels` then counts
// quads).
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let pixel = linear_index(gid, groups);
  let c_count = params.channels;
  if (pixel >= params.batch * params.out_h * params.out_w) { return; }
  let t = pixel_taps(pixel, c_count);
  let out = pixel * c_count;
  for (var c = 0u; c < c_count; c++) {
    let top = t.tx.w0 * load_x(t.a + c) + t.tx.w1 * load_x(t.b + c);
    let bottom = t.tx.w0 * load_x(t.d + c) + t.tx.w1 * load_x(t.e + c);
    y[out + c] = t.ty.w0 * top + t.ty.w1 * bottom;
  }
}
