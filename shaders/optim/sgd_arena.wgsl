// One SGD step of every parameter of an arena in one dispatch (PyTorch's
// torch.optim.SGD, the same arithmetic as sgd.wgsl, element by element):
//   d = g + weight_decay * w
//   buf = d on the parameter's first step, else momentum * buf + (1 - dampening) * d
//   d = d + momentum * buf (Nesterov) or d = buf
//   w = w - lr * d
// Each workgroup updates one chunk of one parameter. `table` holds, per chunk,
// [first element, element count, parameter, 0], then per parameter
// [group, weight decay as f32 bits, flags, 0]; flags bit 0: the parameter has a
// gradient (else it is skipped, as PyTorch skips it), bit 1: its first step.
// The learning rate of group g is lr_g (lr times the group's multiplier).
fn group_lr(g: u32) -> f32 {
  if (g == 1u) { return params.lr_1; }
  if (g == 2u) { return params.lr_2; }
  if (g == 3u) { return params.lr_3; }
  return params.lr_0;
}

@compute @workgroup_size(WG_X, 1, 1)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
) {
  let chunk = wid.x + wid.y * groups.x;
  if (chunk >= params.chunks) { return; }
  let start = table[chunk * 4u];
  let count = table[chunk * 4u + 1u];
  let entry = (params.chunks + table[chunk * 4u + 2u]) * 4u;
  let flags = table[entry + 2u];
  if ((flags & 1u) == 0u) { return; }
  let lr = group_lr(table[entry]);
  let weight_decay = bitcast<f32>(table[entry + 1u]);
  let first_step = (flags & 2u) != 0u;
  for (var j = lid.x; j < count; j += WG_X) {
    let i = start + j;
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
}
