// One SGD step for one parameter tensor, in place: sgd_update (sgd_update.wgsl)
// on every element. Every hyper-parameter is a uniform so one pipeline serves
// every group and step. With momentum 0 a 1-element stand-in buffer is bound.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.n) { return; }
  sgd_update(i, params.lr, params.weight_decay, params.first_step != 0u);
}
