/**
 * Float64 references for the baselines' losses (src/incremental/losses/):
 * MiB's unbiased cross-entropy and unbiased distillation, LwF's distillation
 * as MiB implements it, ILT's feature MSE (PLOP's parts are in plop.ts).
 * Logits are [pixels, channels] row-major (NHWC flattened).
 *
 * @module
 */

/** log(sum_k exp(z[base + k])) over the channels in `ks`. */
const logSumExp = (z: ArrayLike<number>, base: number, ks: readonly number[]): number => {
  let m = -Infinity;
  for (const k of ks) m = Math.max(m, z[base + k]);
  let s = 0;
  for (const k of ks) s += Math.exp(z[base + k] - m);
  return m + Math.log(s);
};

const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

/** softmax(alpha * t) of one row. */
export const softmaxRow = (t: ArrayLike<number>, base: number, c: number, alpha = 1): number[] => {
  const scaled = Array.from({ length: c }, (_, k) => alpha * t[base + k]);
  const lse = logSumExp(scaled, 0, range(0, c));
  return scaled.map((x) => Math.exp(x - lse));
};

/**
 * How the unbiased cross-entropy averages: over valid pixels (`nll_loss`'s
 * 'mean', the default), or over all pixels (MiB's train.py: reduction
 * 'none', then `loss.mean()`).
 */
export type MeanOver = "valid" | "all";

/** Options of {@link unbiasedCrossEntropyReference}. */
export interface UnbiasedCeReferenceOptions {
  readonly weights?: ArrayLike<number>;
  readonly meanOver?: MeanOver;
}

/**
 * MiB's unbiased cross-entropy: a pixel labelled below `oldClasses` (MiB
 * maps every old label to 0) has log-probability lse(z_0..z_{old-1}) -
 * lse(z); a new label y has z_y - lse(z); 255 and out-of-range labels are
 * ignored. Loss = sum_p w_p l_p / (#valid or #pixels).
 */
export const unbiasedCrossEntropyReference = (
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  channels: number,
  oldClasses: number,
  options: UnbiasedCeReferenceOptions = {},
): { loss: number; valid: number } => {
  let sum = 0;
  let valid = 0;
  const old = range(0, oldClasses);
  const all = range(0, channels);
  for (let p = 0; p < labels.length; p++) {
    const y = labels[p];
    if (!(Number.isInteger(y) && y >= 0 && y < channels)) continue;
    valid++;
    const base = p * channels;
    const den = logSumExp(logits, base, all);
    const num = y < oldClasses ? logSumExp(logits, base, old) : logits[base + y];
    sum += (options.weights ? options.weights[p] : 1) * (den - num);
  }
  const count = options.meanOver === "all" ? labels.length : valid;
  return { loss: count === 0 ? 0 : sum / count, valid };
};

/** Analytic gradient of {@link unbiasedCrossEntropyReference} with respect to the logits. */
export const unbiasedCrossEntropyBackwardReference = (
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  channels: number,
  oldClasses: number,
  options: UnbiasedCeReferenceOptions = {},
): number[] => {
  const { valid } = unbiasedCrossEntropyReference(logits, labels, channels, oldClasses, options);
  const count = options.meanOver === "all" ? labels.length : valid;
  const dz = new Array<number>(logits.length).fill(0);
  const old = range(0, oldClasses);
  const all = range(0, channels);
  for (let p = 0; p < labels.length; p++) {
    const y = labels[p];
    if (!(Number.isInteger(y) && y >= 0 && y < channels)) continue;
    const base = p * channels;
    const u = (options.weights ? options.weights[p] : 1) / count;
    const den = logSumExp(logits, base, all);
    const lseOld = logSumExp(logits, base, old);
    for (let k = 0; k < channels; k++) {
      const target = y < oldClasses
        ? (k < oldClasses ? Math.exp(logits[base + k] - lseOld) : 0)
        : (k === y ? 1 : 0);
      dz[base + k] = u * (Math.exp(logits[base + k] - den) - target);
    }
  }
  return dz;
};

/** Options of the distillation references. */
export interface DistillationReferenceOptions {
  /** Multiplies the teacher's logits before its softmax (MiB's alpha). Default 1. */
  readonly alpha?: number;
  /** Per-pixel weights; the mean still divides by the pixel count (as MiB does). */
  readonly mask?: ArrayLike<number>;
}

/**
 * The student's log-probabilities that a distillation compares with the
 * teacher's `oldClasses` probabilities, per pixel: unbiased (MiB) merges
 * background and the new classes into channel 0; plain (LwF as in MiB)
 * takes the log-softmax over the first `oldClasses` channels only.
 */
const studentLogProbs = (
  z: ArrayLike<number>,
  base: number,
  channels: number,
  oldClasses: number,
  unbiased: boolean,
): number[] => {
  if (!unbiased) {
    const lse = logSumExp(z, base, range(0, oldClasses));
    return range(0, oldClasses).map((k) => z[base + k] - lse);
  }
  const den = logSumExp(z, base, range(0, channels));
  const background = [0, ...range(oldClasses, channels)];
  return range(0, oldClasses).map((k) =>
    k === 0 ? logSumExp(z, base, background) - den : z[base + k] - den
  );
};

const distillation = (
  unbiased: boolean,
  student: ArrayLike<number>,
  teacher: ArrayLike<number>,
  channels: number,
  oldClasses: number,
  options: DistillationReferenceOptions,
): number => {
  const pixels = student.length / channels;
  let sum = 0;
  for (let p = 0; p < pixels; p++) {
    const q = softmaxRow(teacher, p * oldClasses, oldClasses, options.alpha ?? 1);
    const lp = studentLogProbs(student, p * channels, channels, oldClasses, unbiased);
    const inner = q.reduce((s, qk, k) => s + qk * lp[k], 0) / oldClasses;
    sum += (options.mask ? options.mask[p] : 1) * inner;
  }
  return pixels === 0 ? 0 : -sum / pixels;
};

/**
 * MiB's UnbiasedKnowledgeDistillationLoss: -mean_p m_p (q_0 lp_bg + sum_{c=1}^{old-1}
 * q_c lp_c) / old, with q = softmax(alpha * teacher), lp_bg = lse(z_0, z_old..z_{C-1})
 * - lse(z), lp_c = z_c - lse(z).
 */
export const unbiasedDistillationReference = (
  student: ArrayLike<number>,
  teacher: ArrayLike<number>,
  channels: number,
  oldClasses: number,
  options: DistillationReferenceOptions = {},
): number => distillation(true, student, teacher, channels, oldClasses, options);

/**
 * MiB's KnowledgeDistillationLoss (LwF, ILT): -mean_p m_p mean_{c < old} q_c
 * log-softmax(z_0..z_{old-1})_c, with q = softmax(alpha * teacher).
 */
export const knowledgeDistillationReference = (
  student: ArrayLike<number>,
  teacher: ArrayLike<number>,
  channels: number,
  oldClasses: number,
  options: DistillationReferenceOptions = {},
): number => distillation(false, student, teacher, channels, oldClasses, options);

/** Analytic student gradient of either distillation (unbiased or plain). */
export const distillationBackwardReference = (
  unbiased: boolean,
  student: ArrayLike<number>,
  teacher: ArrayLike<number>,
  channels: number,
  oldClasses: number,
  options: DistillationReferenceOptions = {},
): number[] => {
  const pixels = student.length / channels;
  const dz = new Array<number>(student.length).fill(0);
  for (let p = 0; p < pixels; p++) {
    const base = p * channels;
    const q = softmaxRow(teacher, p * oldClasses, oldClasses, options.alpha ?? 1);
    const mass = q.reduce((a, b) => a + b, 0);
    const u = -(options.mask ? options.mask[p] : 1) / (oldClasses * pixels);
    if (!unbiased) {
      const lse = logSumExp(student, base, range(0, oldClasses));
      for (let k = 0; k < oldClasses; k++) {
        dz[base + k] = u * (q[k] - mass * Math.exp(student[base + k] - lse));
      }
      continue;
    }
    const den = logSumExp(student, base, range(0, channels));
    const background = [0, ...range(oldClasses, channels)];
    const lseBg = logSumExp(student, base, background);
    for (let k = 0; k < channels; k++) {
      const own = k === 0 || k >= oldClasses ? q[0] * Math.exp(student[base + k] - lseBg) : q[k];
      dz[base + k] = u * (own - mass * Math.exp(student[base + k] - den));
    }
  }
  return dz;
};

/** ILT's encoder distillation as MiB computes it: nn.MSELoss, the mean of squared differences. */
export const featureDistillationReference = (
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): number => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) ** 2;
  return a.length === 0 ? 0 : sum / a.length;
};
