// backward_input.wgsl a channel quad per invocation (channels % 4 == 0; `x`,
// `dy`, `y` and `dx` as vec4, `n` counting quads): the same arithmetic on
// each component, bit-identical. `x`, `dy` and `y` are read through load_*:
// their buffers, or (llvmpipe without AVX-512 code) texture copies.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.n) { return; }
  let ch = params.channels;
  let c = 4u * (i % (ch / 4u));
  var g = load_dy(i);
  if (RELU == 1u) { g = select(vec4<f32>(0.0), g, load_y(i) > vec4<f32>(0.0)); }
  let k = vec4<f32>(coef[c], coef[c + 1u], coef[c + 2u], coef[c + 3u]);
  let shift = vec4<f32>(coef[ch + c], coef[ch + c + 1u], coef[ch + c + 2u], coef[ch + c + 3u]);
  let s = 2u * ch + c;
  let slope = vec4<f32>(coef[s], coef[s + 1u], coef[s + 2u], coef[s + 3u]);
  let mean = vec4<f32>(stats[c], stats[c + 1u], stats[c + 2u], stats[c + 3u]);
  dx[i] = k * (g - shift - (load_x(i) - mean) * slope);
}
