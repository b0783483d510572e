/**
 * Float64 references for batch normalisation over NHWC tensors (statistics
 * per channel over N*H*W), following PyTorch's `batch_norm`: training mode
 * normalises with the biased batch variance and updates the running stats
 * with the unbiased one; eval mode normalises with the running stats.
 *
 * @module
 */

/** Per-channel statistics used to normalise: the mean and 1 / sqrt(var + eps). */
export interface ChannelStats {
  readonly mean: Float64Array;
  readonly invStd: Float64Array;
}

/** Result of a training-mode forward. */
export interface BatchNormTrainResult extends ChannelStats {
  readonly y: Float64Array;
  /** Biased batch variance (what normalises). */
  readonly variance: Float64Array;
  /** Running stats after the update (the inputs are not modified). */
  readonly runningMean: Float64Array;
  readonly runningVar: Float64Array;
}

/** Mean and biased variance of each channel of an [M, C] view. */
export const channelMoments = (x: ArrayLike<number>, channels: number) => {
  const rows = x.length / channels;
  const mean = new Float64Array(channels);
  const variance = new Float64Array(channels);
  for (let i = 0; i < x.length; i++) mean[i % channels] += x[i];
  for (let c = 0; c < channels; c++) mean[c] /= rows;
  for (let i = 0; i < x.length; i++) variance[i % channels] += (x[i] - mean[i % channels]) ** 2;
  for (let c = 0; c < channels; c++) variance[c] /= rows;
  return { mean, variance, rows };
};

/** y = (x - mean) * invStd * weight + bias, per channel (the innermost axis). */
export const normalizeReference = (
  x: ArrayLike<number>,
  stats: ChannelStats,
  weight: ArrayLike<number>,
  bias: ArrayLike<number>,
): Float64Array => {
  const channels = weight.length;
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = i % channels;
    y[i] = (x[i] - stats.mean[c]) * stats.invStd[c] * weight[c] + bias[c];
  }
  return y;
};

/** Training-mode batch norm: batch statistics, running-stat update with `momentum`. */
export const batchNormTrainReference = (
  x: ArrayLike<number>,
  weight: ArrayLike<number>,
  bias: ArrayLike<number>,
  runningMean: ArrayLike<number>,
  runningVar: ArrayLike<number>,
  momentum = 0.1,
  eps = 1e-5,
): BatchNormTrainResult => {
  const channels = weight.length;
  const { mean, variance, rows } = channelMoments(x, channels);
  const invStd = variance.map((v) => 1 / Math.sqrt(v + eps));
  const unbiased = variance.map((v) => rows > 1 ? (v * rows) / (rows - 1) : v);
  return {
    y: normalizeReference(x, { mean, invStd }, weight, bias),
    mean,
    invStd,
    variance,
    runningMean: mean.map((m, c) => (1 - momentum) * runningMean[c] + momentum * m),
    runningVar: unbiased.map((v, c) => (1 - momentum) * runningVar[c] + momentum * v),
  };
};

/** Eval-mode statistics: the running mean and 1 / sqrt(running var + eps). */
export const evalStatsReference = (
  runningMean: ArrayLike<number>,
  runningVar: ArrayLike<number>,
  eps = 1e-5,
): ChannelStats => ({
  mean: Float64Array.from(runningMean),
  invStd: Float64Array.from(runningVar, (v) => 1 / Math.sqrt(v + eps)),
});

/** Gradients of batch norm. */
export interface BatchNormGrads {
  readonly dx: Float64Array;
  readonly dWeight: Float64Array;
  readonly dBias: Float64Array;
}

/**
 * Backward of batch norm given the statistics the forward used. `train`
 * differentiates through the batch statistics:
 * dx = weight * invStd / M * (M dy - sum(dy) - xhat * sum(dy * xhat));
 * eval treats the statistics as constants (dx = weight * invStd * dy).
 */
export const batchNormBackwardReference = (
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  stats: ChannelStats,
  weight: ArrayLike<number>,
  train: boolean,
): BatchNormGrads => {
  const channels = weight.length;
  const rows = x.length / channels;
  const dBias = new Float64Array(channels);
  const dWeight = new Float64Array(channels);
  for (let i = 0; i < x.length; i++) {
    const c = i % channels;
    dBias[c] += dy[i];
    dWeight[c] += dy[i] * (x[i] - stats.mean[c]) * stats.invStd[c];
  }
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = i % channels;
    const k = weight[c] * stats.invStd[c];
    if (!train) dx[i] = k * dy[i];
    else {
      const xhat = (x[i] - stats.mean[c]) * stats.invStd[c];
      dx[i] = (k / rows) * (rows * dy[i] - dBias[c] - xhat * dWeight[c]);
    }
  }
  return { dx, dWeight, dBias };
};
