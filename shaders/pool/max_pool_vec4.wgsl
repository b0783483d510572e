// max_pool.wgsl on a channel quad per invocation (channels % 4 == 0; `x` and
// `y` read and written as vec4, argmax per channel): each channel compares
// the same pixels in the same order with the same strict >, so values and
// argmax are bit-identical to the scalar kernel's.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let o = linear_index(gid, groups);
  let quads = params.channels / 4u;
  if (o >= params.batch * params.out_h * params.out_w * quads) { return; }
  let q = o % quads;
  let pixel = o / quads;
  let ow = pixel % params.out_w;
  let rest = pixel / params.out_w;
  let oh = rest % params.out_h;
  let n = rest / params.out_h;
  let h0 = i32(oh * params.stride) - i32(params.padding);
  let w0 = i32(ow * params.stride) - i32(params.padding);
  var best = vec4<f32>(0.0);
  var index = vec4<i32>(-1);
  for (var ki = 0; ki < i32(params.kernel); ki++) {
    let h = h0 + ki;
    if (h < 0 || h >= i32(params.in_h)) { continue; }
    for (var kj = 0; kj < i32(params.kernel); kj++) {
      let w = w0 + kj;
      if (w < 0 || w >= i32(params.in_w)) { continue; }
      let at = h * i32(params.in_w) + w;
      let v = x[(n * params.in_h * params.in_w + u32(at)) * quads + q];
      let take = (index < vec4<i32>(0)) | (v > best);
      best = select(best, v, take);
      index = select(index, vec4<i32>(at), take);
    }
  }
  y[o] = best;
  for (var k = 0u; k < 4u; k++) { argmax[4u * o + k] = index[k]; }
}
