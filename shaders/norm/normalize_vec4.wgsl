// normalize.wgsl a channel quad per invocation (channels % 4 == 0; `x` and
// `y` as vec4, `n` counting quads): the same arithmetic on each component,
// bit-identical.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.n) { return; }
  let ch = params.channels;
  let c = 4u * (i % (ch / 4u));
  let mean = vec4<f32>(stats[c], stats[c + 1u], stats[c + 2u], stats[c + 3u]);
  let inv = vec4<f32>(stats[ch + c], stats[ch + c + 1u], stats[ch + c + 2u], stats[ch + c + 3u]);
  let w = vec4<f32>(weight[c], weight[c + 1u], weight[c + 2u], weight[c + 3u]);
  let b = vec4<f32>(bias[c], bias[c + 1u], bias[c + 2u], bias[c + 3u]);
  var v = (x[i] - mean) * (inv * w) + b;
  if (RELU == 1u) {
    let nan = (bitcast<vec4<u32>>(v) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u);
    v = select(max(v, vec4<f32>(0.0)), v, nan);
  }
  y[i] = v;
}
