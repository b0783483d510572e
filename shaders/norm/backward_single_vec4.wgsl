// backward_single.wgsl a channel quad per invocation (channels % 4 == 0):
// `x`, `dy`, `y` and `dx` as vec4 over the [rows, channels] view, each
// component summed in the scalar kernel's order, so the gradients are
// bit-identical to it.
fn upstream4(at: u32) -> vec4<f32> {
  if (RELU == 1u) { return select(vec4<f32>(0.0), load_dy(at), load_y(at) > vec4<f32>(0.0)); }
  return load_dy(at);
}

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q = gid.x;
  let quads = params.channels / 4u;
  if (q >= quads) { return; }
  let c = 4u * q;
  let ch = params.channels;
  let mean = vec4<f32>(stats[c], stats[c + 1u], stats[c + 2u], stats[c + 3u]);
  var sum_dy = vec4<f32>(0.0);
  var sum_dy_xc = vec4<f32>(0.0);
  for (var r = 0u; r < params.rows; r++) {
    let at = r * quads + q;
    let g = upstream4(at);
    sum_dy += g;
    sum_dy_xc += g * (load_x(at) - mean);
  }
  for (var k = 0u; k < 4u; k++) {
    finish_backward(c + k, sum_dy[k], sum_dy_xc[k]);
  }
  let k0 = vec4<f32>(coef[c], coef[c + 1u], coef[c + 2u], coef[c + 3u]);
  let shift = vec4<f32>(coef[ch + c], coef[ch + c + 1u], coef[ch + c + 2u], coef[ch + c + 3u]);
  let s = 2u * ch + c;
  let slope = vec4<f32>(coef[s], coef[s + 1u], coef[s + 2u], coef[s + 3u]);
  for (var r = 0u; r < params.rows; r++) {
    let i = r * quads + q;
    dx[i] = k0 * (upstream4(i) - shift - (load_x(i) - mean) * slope);
  }
}
