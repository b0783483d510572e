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

/** Per-class thresholds at a portion of each class's pixels (see src/ops/pseudo_labels.ts). */
export { quantileThresholds } from "../../ops/pseudo_labels.ts";
