// One SGD step for one parameter tensor, in place (PyTorch's torch.optim.SGD):
//   d = g + weight_decay * w
//   buf = d on the parameter's first step, else momentum * buf + (1 - dampening) * d
//   d = d + momentum * buf (Nesterov) or d = buf
//   w = w - lr * d
// Every hyper-parameter is a uniform so one pipeline serves every group and step.
// With momentum 0 the buffer is neither read nor written (a 1-element stand-in is bound).
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * WG_X;
  if (i >= params.n) { return; }
  let w = weight[i];
  var d = grad[i];
  if (params.weight_decay != 0.0) {
    d = d + params.weight_decay * w;
  }
  if (params.momentum != 0.0) {
    var b = d;
    if (params.first_step == 0u) {
      b = params.momentum * momentum_buffer[i] + (1.0 - params.dampening) * d;
    }
    momentum_buffer[i] = b;
    if (params.nesterov != 0u) {
      d = d + params.momentum * b;
    } else {
      d = b;
    }
  }
  weight[i] = w - params.lr * d;
}
