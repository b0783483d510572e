// The batch statistics of a small [rows, channels] view in one pass: one
// invocation per channel computes the mean and the sum of squared
// deviations of all rows (channel_moments.wgsl), then
// finish_channel (stats_finish.wgsl) writes them. Used when the rows are few
// enough that chunking them would cost more in dispatches than it gains.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= params.channels) { return; }
  let moments = channel_moments(c);
  finish_channel(c, moments.x, moments.y);
}
