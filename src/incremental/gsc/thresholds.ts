/**
 * The pseudo-label thresholds of GSC's PPR variant: FISS's quantile schedule
 * (JiahuaDong/FISS train.py `find_median` with `out_dis`): per class, the
 * entropy below which a `portion` of the class's background pixels lie,
 * walked over the histogram exactly as PLOP's median (`medianThresholds`,
 * which is `portion` 0.5), with portion = min(0.2 + 0.1 * epoch, 0.8).
 *
 * @module
 */

/** FISS's schedule: the portion of each class's pixels kept at `epoch` (0-based). */
export const quantilePortion = (epoch: number): number =>
  Math.min(0.2 + 0.1 * Math.max(0, epoch), 0.8);

/**
 * Per-class thresholds from the histogram [oldClasses * bins] (host counts)
 * by PLOP's `find_median` walk with half = total * portion (its quirks kept:
 * the running sum adds the bin index, not its count), then PLOP's floor
 * (0.001). A class without pixels keeps 0 before the floor; NaN becomes -1
 * (never confident) and +-Infinity +-f32 max, as in `medianThresholds`.
 */
export const quantileThresholds = (
  histogram: ArrayLike<number>,
  bins: number,
  oldClasses: number,
  portion: number,
  floor = 0.001,
): Float32Array => {
  const out = new Float32Array(oldClasses);
  for (let c = 0; c < oldClasses; c++) {
    const row = (k: number) => histogram[c * bins + k];
    let total = 0;
    for (let k = 0; k < bins; k++) total += row(k);
    let value = 0;
    if (total > 0) {
      const half = total * portion;
      let running = 0;
      let lower = 0;
      let bin = 0;
      for (let i = 0; i < bins; i++) {
        lower = i / bins;
        bin = Math.trunc(lower * bins);
        if (half >= running && half <= running + row(bin)) break;
        running += lower * bins;
      }
      value = lower + ((half - running) / row(bin)) * (1 / bins);
    }
    const floored = Number.isNaN(value) ? value : Math.max(value, floor);
    out[c] = Number.isNaN(floored) ? -1 : Math.max(-3.4e38, Math.min(3.4e38, floored));
  }
  return out;
};
