// sgd_update.wgsl on the quad q of the arena: the same arithmetic on each
// component, so the result is bit-identical to four scalar updates. The
// quads past a parameter's last element lie in the arena's gaps, which hold
// zeros in the values, gradients and momentum, and stay zeros.
fn sgd_update_quad(q: u32, lr: f32, weight_decay: f32, first_step: bool) {
  let w = weight[q];
  var d = grad[q];
  if (weight_decay != 0.0) {
    d = d + weight_decay * w;
  }
  if (params.momentum != 0.0) {
    var b = d;
    if (!first_step) {
      b = params.momentum * momentum_buffer[q] + (1.0 - params.dampening) * d;
    }
    momentum_buffer[q] = b;
    if (params.nesterov != 0u) {
      d = d + params.momentum * b;
    } else {
      d = b;
    }
  }
  weight[q] = w - lr * d;
}
