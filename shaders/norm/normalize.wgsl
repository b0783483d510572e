// y = (x - mean[c]) * inv_std[c] * weight[c] + bias[c] over an NHWC tensor
// (c = i % channels). Subtracting the mean first keeps precision when the
// mean is large against the spread. RELU = 1 applies ReLU to y (a NaN passes,
// as elementwise/unary.wgsl's relu passes it), so conv -> BN -> ReLU writes once.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.n) { return; }
  let c = i % params.channels;
  var v = (x[i] - stats[c]) * (stats[params.channels + c] * weight[c]) + bias[c];
  if (RELU == 1u) {
    v = select(max(v, 0.0), v, (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u);
  }
  y[i] = v;
}
