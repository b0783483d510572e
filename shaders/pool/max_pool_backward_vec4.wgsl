// max_pool_backward.wgsl on a channel quad per invocation (channels % 4 ==
// 0; `dy` and `dx` as vec4, argmax per channel): each channel adds the same
// gradients in the same order (a non-matching one adds +0, which leaves a
// sum that starts at +0 unchanged), so dx is bit-identical to the scalar
// kernel's. `dy` is read through load_dy: its buffer, or (llvmpipe without
// AVX-512 code) a texture copy.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  let quads = params.channels / 4u;
  if (i >= params.batch * params.in_h * params.in_w * quads) { return; }
  let q = i % quads;
  let pixel = i / quads;
  let w = pixel % params.in_w;
  let rest = pixel / params.in_w;
  let h = rest % params.in_h;
  let n = rest / params.in_h;
  let me = vec4<i32>(i32(h * params.in_w + w));
  let s = i32(params.stride);
  let k = i32(params.kernel);
  let hp = i32(h + params.padding);
  let wp = i32(w + params.padding);
  let oh_first = i32(u32(max(0, hp - k + s)) / u32(s));
  let oh_last = min(i32(params.out_h) - 1, i32(u32(hp) / u32(s)));
  let ow_first = i32(u32(max(0, wp - k + s)) / u32(s));
  let ow_last = min(i32(params.out_w) - 1, i32(u32(wp) / u32(s)));
  var acc = vec4<f32>(0.0);
  for (var oh = oh_first; oh <= oh_last; oh++) {
    for (var ow = ow_first; ow <= ow_last; ow++) {
      let o = ((n * params.out_h + u32(oh)) * params.out_w + u32(ow)) * quads + q;
      let a = 4u * o;
      let chosen = vec4<i32>(argmax[a], argmax[a + 1u], argmax[a + 2u], argmax[a + 3u]) == me;
      acc += select(vec4<f32>(0.0), load_dy(o), chosen);
    }
  }
  dx[i] = acc;
}
