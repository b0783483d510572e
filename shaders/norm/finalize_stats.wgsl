// Second pass of the batch statistics: one invocation per channel merges the
// chunk means and squared-deviation sums (Chan's parallel formula), writes
// the mean and 1 / sqrt(biased var + eps) for normalising, and updates the
// running stats in place as PyTorch does (the running variance takes the
// unbiased estimate).
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
  let variance = m2 / f32(params.rows);
  stats[c] = mean;
  stats[params.channels + c] = 1.0 / sqrt(variance + params.eps);
  let unbiased = select(variance, m2 / f32(params.rows - 1u), params.rows > 1u);
  let keep = 1.0 - params.momentum;
  running_mean[c] = keep * running_mean[c] + params.momentum * mean;
  running_var[c] = keep * running_var[c] + params.momentum * unbiased;
}
