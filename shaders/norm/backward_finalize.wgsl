// Second pass of the batch-norm backward, one invocation per channel: adds
// up the chunks' sums in a fixed order, then finish_backward
// (backward_finish.wgsl) writes the parameter gradients and dx's coefficients.
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
  finish_backward(c, sum_dy, sum_dy_xc);
}
