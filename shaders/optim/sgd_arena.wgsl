// One SGD step of every parameter of an arena in one dispatch: sgd_update
// (sgd_update.wgsl, the arithmetic of sgd.wgsl) on every element.
// Each workgroup updates one chunk of one parameter. `table` holds, per chunk,
// [first element, element count, parameter, 0], then per parameter
// [group, weight decay as f32 bits, flags, 0]; flags bit 0: the parameter has a
// gradient (else it is skipped, as PyTorch skips it), bit 1: its first step.
// The learning rate of group g is lr_g (lr times the group's multiplier).

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
    sgd_update(start + j, lr, weight_decay, first_step);
  }
}
