// From channel c's sums of dy and dy * (x - mean) over all rows: d_bias =
// sum dy, d_weight = inv_std * sum dy (x - mean), and the coefficients of
// dx = k * (dy - shift - (x - mean) * slope) with k = weight * inv_std.
// Training mode (TRAIN = 1) differentiates through the batch statistics:
// shift = d_bias / M, slope = inv_std * d_weight / M. Eval mode treats the
// statistics as constants: shift = slope = 0. ACCUMULATE = 1 adds the weight
// and bias gradients to what their buffers hold (a parameter's gradient)
// instead of overwriting them. Shared by backward_finalize.wgsl and
// backward_single.wgsl.
fn finish_backward(c: u32, sum_dy: f32, sum_dy_xc: f32) {
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
