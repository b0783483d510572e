// Second pass of the batch statistics: one invocation per channel merges the
// chunk means and squared-deviation sums (Chan's parallel formula), then
// finish_channel (stats_finish.wgsl) writes the statistics.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= params.channels) { return; }
  var weighted = 0.0;
  for (var k = 0u; k < params.chunks; k++) {
    let count = min(params.chunk_rows, params.rows - k * params.chunk_rows);
    weighted += f32(count) * partial[2u * (k * params.channels + c)];
  }
  let mean = weighted / f32(params.rows);
  var m2 = 0.0;
  for (var k = 0u; k < params.chunks; k++) {
    let count = min(params.chunk_rows, params.rows - k * params.chunk_rows);
    let at = 2u * (k * params.channels + c);
    let d = partial[at] - mean;
    m2 += partial[at + 1u] + f32(count) * d * d;
  }
  finish_channel(c, mean, m2);
}
