// Second pass of the batch-norm backward, one invocation per channel:
// d_bias = sum dy, d_weight = inv_std * sum dy (x - mean), and the
// coefficients of dx = k * (dy - shift - (x - mean) * slope) with
// k = weight * inv_std. Training mode (TRAIN = 1) differentiates through the
// batch statistics: shift = d_bias / M, slope = inv_std * d_weight / M.
// Eval mode treats the statistics as constants: shift = slope = 0.
// ACCUMULATE = 1 adds the weight and bias gradients to what their buffers
// hold (a parameter's gradient) instead of overwriting them.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= params.channels) { return; }
  var sum_dy = 0.0;
  var sum_dy_xc = 0.0;
  for (var k = 0u; k < params.chunks; k++) {
    let at = 2u * (k * params.channels + c);
    sum_dy += partial[at];
    sum_dy_xc += partial[at + 1u];
  }
  let inv_std = stats[params.channels + c];
  let d_weight = inv_std * sum_dy_xc;
  if (ACCUMULATE == 1u) {
    grad_weight[c] = grad_weight[c] + d_weight;
    grad_bias[c] = grad_bias[c] + sum_dy;
  } else {
    grad_weight[c] = d_weight;
    grad_bias[c] = sum_dy;
  }
  let m = f32(params.rows);
  coef[c] = weight[c] * inv_std;
  coef[params.channels + c] = select(0.0, sum_dy / m, TRAIN == 1u);
  coef[2u * params.channels + c] = select(0.0, inv_std * d_weight / m, TRAIN == 1u);
}
