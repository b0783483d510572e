// The SGD update of element i (PyTorch's torch.optim.SGD), in place:
//   d = g + weight_decay * w
//   buf = d on the parameter's first step, else momentum * buf + (1 - dampening) * d
//   d = d + momentum * buf (Nesterov) or d = buf
//   w = w - lr * d
// With momentum 0 the buffer is neither read nor written. Shared by sgd.wgsl
// (one tensor) and sgd_arena.wgsl (every parameter of an arena).
fn sgd_update(i: u32, lr: f32, weight_decay: f32, first_step: bool) {
  let w = weight[i];
  var d = grad[i];
  if (weight_decay != 0.0) {
    d = d + weight_decay * w;
  }
  if (params.momentum != 0.0) {
    var b = d;
    if (!first_step) {
      b = params.momentum * momentum_buffer[i] + (1.0 - params.dampening) * d;
    }
    momentum_buffer[i] = b;
    if (params.nesterov != 0u) {
      d = d + params.momentum * b;
    } else {
      d = b;
    }
  }
  weight[i] = w - lr * d;
}
