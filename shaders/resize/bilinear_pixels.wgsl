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
  let ox = pixel % params.out_w;
  let rest = pixel / params.out_w;
  let oy = rest % params.out_h;
  let n = rest / params.out_h;
  let ty = taps_of(oy, params.in_h, params.scale_h);
  let tx = taps_of(ox, params.in_w, params.scale_w);
  let base = n * params.in_h;
  let row0 = (base + ty.i0) * params.in_w;
  let row1 = (base + ty.i1) * params.in_w;
  let a = (row0 + tx.i0) * c_count;
  let b = (row0 + tx.i1) * c_count;
  let d = (row1 + tx.i0) * c_count;
  let e = (row1 + tx.i1) * c_count;
  let out = pixel * c_count;
  for (var c = 0u; c < c_count; c++) {
    let top = tx.w0 * load_x(a + c) + tx.w1 * load_x(b + c);
    let bottom = tx.w0 * load_x(d + c) + tx.w1 * load_x(e + c);
    y[out + c] = ty.w0 * top + ty.w1 * bottom;
  }
}
