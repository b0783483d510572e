// Max pool over NHWC, one invocation per output (n, oh, ow, c). Padding
// counts as -inf: only pixels inside the image compete. Ties keep the first
// pixel of the window in row-major order (strict >), like PyTorch's CPU
// kernel. argmax holds the chosen pixel as h * W + w for the backward.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let o = linear_index(gid, groups);
  let c_count = params.channels;
  if (o >= params.batch * params.out_h * params.out_w * c_count) { return; }
  let c = o % c_count;
  let pixel = o / c_count;
  let ow = pixel % params.out_w;
  let rest = pixel / params.out_w;
  let oh = rest % params.out_h;
  let n = rest / params.out_h;
  let h0 = i32(oh * params.stride) - i32(params.padding);
  let w0 = i32(ow * params.stride) - i32(params.padding);
  var best = 0.0;
  var index = -1;
  for (var ki = 0; ki < i32(params.kernel); ki++) {
    let h = h0 + ki;
    if (h < 0 || h >= i32(params.in_h)) { continue; }
    for (var kj = 0; kj < i32(params.kernel); kj++) {
      let w = w0 + kj;
      if (w < 0 || w >= i32(params.in_w)) { continue; }
      let at = h * i32(params.in_w) + w;
      let v = x[(n * params.in_h * params.in_w + u32(at)) * c_count + c];
      if (index < 0 || v > best) {
        best = v;
        index = at;
      }
    }
  }
  y[o] = best;
  argmax[o] = index;
}
