// The mean and the sum of squared deviations of channel c over every row of
// the [rows, channels] view `x` (two passes: the rows are re-read from cache).
// Shared by stats_single.wgsl and forward_single.wgsl.
fn channel_moments(c: u32) -> vec2<f32> {
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
  return vec2<f32>(mean, m2);
}
