/**
 * Float64 references for softmax and log-softmax over channels (src/ops/softmax.ts).
 * Data is [pixels, channels], row-major.
 *
 * @module
 */

/** log-softmax of one row of z / T, stable (max-subtracted). */
export const logSoftmaxRow = (z: ArrayLike<number>, base: number, c: number, t = 1): number[] => {
  let m = -Infinity;
  for (let k = 0; k < c; k++) m = Math.max(m, z[base + k] / t);
  let s = 0;
  for (let k = 0; k < c; k++) s += Math.exp(z[base + k] / t - m);
  const shift = m + Math.log(s);
  return Array.from({ length: c }, (_, k) => z[base + k] / t - shift);
};

/** softmax(z / T) (or its log when `log`) over rows of `channels`. */
export const softmaxReference = (
  z: ArrayLike<number>,
  channels: number,
  temperature = 1,
  log = false,
): number[] => {
  const out: number[] = [];
  for (let base = 0; base < z.length; base += channels) {
    const row = logSoftmaxRow(z, base, channels, temperature);
    out.push(...(log ? row : row.map(Math.exp)));
  }
  return out;
};

/**
 * Gradient with respect to z of <g, softmax(z / T)> (or log-softmax), from the
 * Jacobian written out: d softmax_j / d z_k = s_j (δ_jk - s_k) / T and
 * d logsoftmax_j / d z_k = (δ_jk - s_k) / T.
 */
export const softmaxBackwardReference = (
  z: ArrayLike<number>,
  g: ArrayLike<number>,
  channels: number,
  temperature = 1,
  log = false,
): number[] => {
  const out: number[] = [];
  for (let base = 0; base < z.length; base += channels) {
    const s = logSoftmaxRow(z, base, channels, temperature).map(Math.exp);
    for (let k = 0; k < channels; k++) {
      let d = 0;
      for (let j = 0; j < channels; j++) {
        const delta = j === k ? 1 : 0;
        d += g[base + j] * (log ? delta - s[k] : s[j] * (delta - s[k]));
      }
      out.push(d / temperature);
    }
  }
  return out;
};
