// forward_single.wgsl a channel quad per invocation (channels % 4 == 0): `x`
// and `y` are read and written as vec4 over the [rows, channels] view, each
// component summed over the rows in the same order as the scalar kernel, so
// statistics, running stats and output are bit-identical to it.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q = gid.x;
  let quads = params.channels / 4u;
  if (q >= quads) { return; }
  var sum = vec4<f32>(0.0);
  for (var r = 0u; r < params.rows; r++) {
    sum += load_x(r * quads + q);
  }
  let mean = sum / f32(params.rows);
  var m2 = vec4<f32>(0.0);
  for (var r = 0u; r < params.rows; r++) {
    let d = load_x(r * quads + q) - mean;
    m2 += d * d;
  }
  let c = 4u * q;
  for (var k = 0u; k < 4u; k++) {
    finish_channel(c + k, mean[k], m2[k]);
  }
  let ch = params.channels;
  let m = vec4<f32>(stats[c], stats[c + 1u], stats[c + 2u], stats[c + 3u]);
  let inv = vec4<f32>(stats[ch + c], stats[ch + c + 1u], stats[ch + c + 2u], stats[ch + c + 3u]);
  let w = vec4<f32>(weight[c], weight[c + 1u], weight[c + 2u], weight[c + 3u]);
  let b = vec4<f32>(bias[c], bias[c + 1u], bias[c + 2u], bias[c + 3u]);
  let scale = inv * w;
  for (var r = 0u; r < params.rows; r++) {
    let i = r * quads + q;
    var v = (load_x(i) - m) * scale + b;
    if (RELU == 1u) {
      let nan = (bitcast<vec4<u32>>(v) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u);
      v = select(max(v, vec4<f32>(0.0)), v, nan);
    }
    y[i] = v;
  }
}
