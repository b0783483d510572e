// Gradient of y = softmax(z / T) (LOG == 0) or log-softmax (LOG == 1) from
// the forward output y and the output gradient g, one pixel per invocation:
//   softmax:     dz = y * (g - sum(g * y)) / T
//   log-softmax: dz = (g - exp(y) * sum(g)) / T
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  let c = params.channels;
  let base = p * c;
  var s = 0.0;
  for (var k = 0u; k < c; k++) {
    if (LOG == 1u) { s += g[base + k]; } else { s += g[base + k] * y[base + k]; }
  }
  for (var k = 0u; k < c; k++) {
    let yk = y[base + k];
    var d: f32;
    if (LOG == 1u) { d = g[base + k] - exp(yk) * s; } else { d = yk * (g[base + k] - s); }
    dz[base + k] = d * params.inv_t;
  }
}
