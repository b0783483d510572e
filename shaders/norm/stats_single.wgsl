// The batch statistics of a small [rows, channels] view in one pass: one
// invocation per channel computes the mean and the sum of squared
// deviations of all rows (two-pass: the rows are re-read from cache), then
// finish_channel (stats_finish.wgsl) writes them. Used when the rows are few
// enough that chunking them would cost more in dispatches than it gains.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= params.channels) { return; }
  var sum = 0.0;
  for (var r = 0u; r < params.rows; r++) {
    sum += x[r * params.channels + c];
  }
  let mean = sum / f32(params.rows);
  var m2 = 0.0;
  for (var r = 0u; r < params.rows; r++) {
    let d = x[r * params.channels + c] - mean;
    m2 += d * d;
  }
  finish_channel(c, mean, m2);
}
