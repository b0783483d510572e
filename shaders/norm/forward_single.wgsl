// Batch norm of a small [rows, channels] view in one dispatch: one invocation
// per channel computes the channel's mean and squared deviations
// (channel_moments.wgsl), writes the statistics (finish_channel, stats_finish.wgsl),
// then writes y = (x - mean) * inv_std * weight + bias for every row of the
// channel, with the arithmetic of normalize.wgsl (and its ReLU when RELU = 1).
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= params.channels) { return; }
  let moments = channel_moments(c);
  finish_channel(c, moments.x, moments.y);
  for (var r = 0u; r < params.rows; r++) {
    let i = r * params.channels + c;
    var v = (x[i] - stats[c]) * (stats[params.channels + c] * weight[c]) + bias[c];
    if (RELU == 1u) {
      v = select(max(v, 0.0), v, (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u);
    }
    y[i] = v;
  }
}
