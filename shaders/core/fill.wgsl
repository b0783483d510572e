// out[i] = the 32-bit pattern `bits`, reinterpreted as the tensor's element type.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.n) { return; }
  out[i] = bitcast<Elem>(params.bits);
}
