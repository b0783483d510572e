// sgd_update.wgsl on the quad q of the arena: the same arithmetic on each
// component, so the result is bit-identical to four scalar updates. The
// quads past a parameter's last element lie in the arena's gaps, which hold
// zeros in the values, gradients and momentum, and stay zeros. Values and
// momentum are read through read_weight / read_momentum and the gradient
// through load_grad: the buffers, or (llvmpipe without AVX-512 code) texture
// copies of them made before the dispatch.
fn sgd_update_quad(q: u32, lr: f32, weight_decay: f32, first_step: bool) {
  let w = read_weight(q);
  var d = load_grad(q);
  if (weight_decay != 0.0) {
    d = d + weight_decay * w;
  }
  if (params.momentum != 0.0) {
    var b = d;
    if (!first_step) {
      b = params.momentum * read_momentum(q) + (1.0 - params.dampening) * d;
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
