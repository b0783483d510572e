// Softmax (LOG == 0) or log-softmax (LOG == 1) of z / T over the channels of
// one pixel per invocation; z is [pixels, channels]. Subtracting the row's
// maximum first keeps exp from overflowing; subtracting it before scaling by
// 1 / T keeps large logits from cancelling in log-softmax (z - max is exact).
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  let c = params.channels;
  let base = p * c;
  let m = z_max(base, c);
  let s = z_sum_exp(base, c, m, params.inv_t);
  if (LOG == 1u) {
    let shift = log(s);
    for (var k = 0u; k < c; k++) { y[base + k] = (z[base + k] - m) * params.inv_t - shift; }
  } else {
    let inv = 1.0 / s;
    for (var k = 0u; k < c; k++) { y[base + k] = exp((z[base + k] - m) * params.inv_t) * inv; }
  }
}
