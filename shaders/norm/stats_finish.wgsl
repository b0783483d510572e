// Writes channel c's mean and 1 / sqrt(biased var + eps) for normalising,
// from the mean and sum of squared deviations of all its rows, and updates
// the running stats in place as PyTorch does (the running variance takes the
// unbiased estimate). Shared by finalize_stats.wgsl and stats_single.wgsl.
fn finish_channel(c: u32, mean: f32, m2: f32) {
  let variance = m2 / f32(params.rows);
  stats[c] = mean;
  stats[params.channels + c] = 1.0 / sqrt(variance + params.eps);
  let unbiased = select(variance, m2 / f32(params.rows - 1u), params.rows > 1u);
  let keep = 1.0 - params.momentum;
  running_mean[c] = keep * running_mean[c] + params.momentum * mean;
  running_var[c] = keep * running_var[c] + params.momentum * unbiased;
}
