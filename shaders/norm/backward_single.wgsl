// The batch-norm backward's sums for a small [rows, channels] view in one
// pass: one invocation per channel sums upstream(dy) and upstream(dy) *
// (x - mean) over all rows (backward_upstream.wgsl), then finish_backward
// (backward_finish.wgsl) writes the parameter gradients and dx's coefficients,
// and the invocation writes its channel's dx with the arithmetic of
// backward_input.wgsl: one dispatch for the whole backward.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= params.channels) { return; }
  let mean = stats[c];
  var sum_dy = 0.0;
  var sum_dy_xc = 0.0;
  for (var r = 0u; r < params.rows; r++) {
    let at = r * params.channels + c;
    let g = upstream(at);
    sum_dy += g;
    sum_dy_xc += g * (x[at] - mean);
  }
  finish_backward(c, sum_dy, sum_dy_xc);
  let ch = params.channels;
  for (var r = 0u; r < params.rows; r++) {
    let i = r * ch + c;
    dx[i] = coef[c] * (upstream(i) - coef[ch + c] - (x[i] - stats[c]) * coef[2u * ch + c]);
  }
}
