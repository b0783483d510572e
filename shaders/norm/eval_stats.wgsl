// Eval-mode statistics: the running mean and 1 / sqrt(running var + eps), in
// the same [mean | inv_std] layout the training pass writes, so normalising
// and the backward share their kernels across modes.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= params.channels) { return; }
  stats[c] = running_mean[c];
  stats[params.channels + c] = 1.0 / sqrt(running_var[c] + params.eps);
}
