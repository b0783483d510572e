/**
 * Segmentation metrics as the field computes them: a confusion matrix
 * streamed on the GPU over the evaluation set (`ops/confusion.ts`), then, in
 * plain TypeScript, IoU per class, mIoU over the seen / old / new classes
 * that have ground truth, pixel accuracy, and the average of the all-class
 * mIoU over steps.
 *
 * @module
 */
import type { StepMetrics } from "./types.ts";

export {
  accumulateConfusion,
  accumulateConfusionFromPredictions,
  type Confusion,
  confusionKernels,
  type ConfusionStrategy,
  LOCAL_HISTOGRAM_CELLS,
  makeConfusion,
  readConfusion,
} from "../ops/confusion.ts";

/** The class lists and counts a step's metrics are computed over. */
export interface MetricsContext {
  readonly step: number;
  /** Classes seen up to this step (background included). */
  readonly seenClasses: readonly number[];
  /** Classes of step 0 (background included). */
  readonly oldClasses: readonly number[];
  /** Classes of steps 1..t. */
  readonly newClasses: readonly number[];
  /** K: the matrix is K x K and the IoU list K long. */
  readonly totalClasses: number;
  readonly images: number;
}

/** IoU = TP / (TP + FP + FN) of every class of `seen` with ground truth (TP + FN > 0); null otherwise. */
export const classIou = (
  matrix: ArrayLike<number>,
  k: number,
  seen: readonly number[],
): (number | null)[] => {
  const iou: (number | null)[] = new Array(k).fill(null);
  for (const c of seen) {
    let row = 0;
    let column = 0;
    for (let j = 0; j < k; j++) {
      row += matrix[c * k + j];
      column += matrix[j * k + c];
    }
    const tp = matrix[c * k + c];
    // Classes without ground truth stay out of the means, as in MiB's and PLOP's
    // metrics; the exact ratio replaces their 1e-6 guard in the denominator.
    if (row > 0) iou[c] = tp / (row + column - tp);
  }
  return iou;
};

const meanOf = (iou: readonly (number | null)[], classes: readonly number[]): number | null => {
  const values = classes.map((c) => iou[c]).filter((v): v is number => v != null);
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
};

/** A step's metrics from its confusion matrix (row-major K x K, rows = ground truth). */
export const confusionToMetrics = (
  matrix: ArrayLike<number>,
  context: MetricsContext,
): StepMetrics => {
  const k = context.totalClasses;
  if (matrix.length !== k * k) {
    throw new RangeError(`confusion matrix has ${matrix.length} cells, expected ${k * k}`);
  }
  const iou = classIou(matrix, k, context.seenClasses);
  let correct = 0;
  let total = 0;
  for (let i = 0; i < k; i++) {
    correct += matrix[i * k + i];
    for (let j = 0; j < k; j++) total += matrix[i * k + j];
  }
  return {
    step: context.step,
    seenClasses: [...context.seenClasses],
    oldClasses: [...context.oldClasses],
    newClasses: [...context.newClasses],
    iou,
    miouAll: meanOf(iou, context.seenClasses),
    miouOld: meanOf(iou, context.oldClasses),
    miouNew: meanOf(iou, context.newClasses),
    pixelAccuracy: total === 0 ? 0 : correct / total,
    images: context.images,
    pixels: total,
  };
};

/**
 * The same metrics with the seen classes split anew into old (`oldClasses`)
 * and new (the other seen classes): how a joint run's one step is read for
 * another task with the same classes but a different first step.
 */
export const resplitMetrics = (
  metrics: StepMetrics,
  oldClasses: readonly number[],
): StepMetrics => {
  const old = metrics.seenClasses.filter((c) => oldClasses.includes(c));
  const fresh = metrics.seenClasses.filter((c) => !oldClasses.includes(c));
  return {
    ...metrics,
    oldClasses: old,
    newClasses: fresh,
    miouOld: meanOf(metrics.iou, old),
    miouNew: meanOf(metrics.iou, fresh),
  };
};

/** The average over steps of the all-class mIoU ("avg" in the field's tables); null if none. */
export const averageOverSteps = (metrics: readonly StepMetrics[]): number | null => {
  const values = metrics.map((m) => m.miouAll).filter((v): v is number => v !== null);
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
};
