/**
 * Float64 references of GSC's kernels (docs/gsc.md): SGC weights, SSRD with
 * its gradient, prototypical pseudo re-labeling and the prototypes. Plain
 * TypeScript over flat NHWC arrays, used by the tests only.
 *
 * @module
 */

const IGNORE = 255;

const logSumExp = (values: readonly number[]): number => {
  const m = Math.max(...values);
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (const v of values) s += Math.exp(v - m);
  return m + Math.log(s);
};

const softmax = (values: readonly number[], temperature = 1): number[] => {
  const scaled = values.map((v) => v / temperature);
  const lse = logSumExp(scaled);
  return scaled.map((v) => Math.exp(v - lse));
};

const row = (a: ArrayLike<number>, p: number, width: number): number[] =>
  Array.from({ length: width }, (_, j) => a[p * width + j]);

/** Options of {@link sgcWeightsReference}. */
export interface SgcReferenceOptions {
  readonly step: number;
  readonly zeta: number;
  readonly min: number;
  readonly max: number;
  /** Clip into [min, max] (default true). */
  readonly clip?: boolean;
}

/**
 * SGC weights [P]: g = 1 - softmax(z)[y]; w = g^zeta / (mean of g^zeta over
 * the pixel's old-step group + 1e-6), clipped; 1 on current-step pixels, on
 * ignored / out-of-range targets and everywhere at step 0.
 */
export const sgcWeightsReference = (
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  classStep: ArrayLike<number>,
  channels: number,
  o: SgcReferenceOptions,
): Float64Array => {
  const pixels = targets.length;
  const w = new Float64Array(pixels).fill(1);
  if (o.step === 0) return w;
  const powered = new Float64Array(pixels);
  const group = new Int32Array(pixels).fill(-1);
  const sums = new Float64Array(o.step);
  const counts = new Float64Array(o.step);
  for (let p = 0; p < pixels; p++) {
    const y = targets[p];
    if (y < 0 || y >= channels) continue;
    const k = classStep[y];
    if (k >= o.step) continue;
    const prob = softmax(row(logits, p, channels));
    let rest = 0;
    for (let c = 0; c < channels; c++) if (c !== y) rest += prob[c];
    powered[p] = Math.pow(rest, o.zeta);
    group[p] = k;
    sums[k] += powered[p];
    counts[k] += 1;
  }
  for (let p = 0; p < pixels; p++) {
    const k = group[p];
    if (k < 0) continue;
    const raw = powered[p] / (sums[k] / counts[k] + 1e-6);
    w[p] = o.clip === false ? raw : Math.min(o.max, Math.max(o.min, raw));
  }
  return w;
};

/** Layout and options of {@link ssrdReference}. */
export interface SsrdReferenceSpec {
  readonly channels: number;
  readonly oldClasses: number;
  readonly newClassesStart: number;
  readonly tSoft: number;
  readonly tSharp: number;
  readonly lambdaSoft: number;
  readonly lambdaSharp: number;
}

/** The unbiased logits u over old classes: u_0 = logsumexp(z_0, z_new), u_c = z_c. */
export const unbiasedLogits = (z: readonly number[], s: SsrdReferenceSpec): number[] => {
  const background = [z[0]];
  for (let c = s.newClassesStart; c < s.channels; c++) background.push(z[c]);
  const u = z.slice(0, s.oldClasses);
  u[0] = logSumExp(background);
  return u;
};

/**
 * The unbiased student distribution at temperature T: the tempered softmax
 * softmax(z / T) with the mass of {0} and the new classes merged into class 0.
 */
export const unbiasedStudent = (
  z: readonly number[],
  s: SsrdReferenceSpec,
  temperature: number,
): number[] => softmax(unbiasedLogits(z.map((v) => v / temperature), s));

/**
 * Adds to `grad` (one pixel's row, offset `at`) the gradient with respect to z
 * of a loss whose gradient with respect to u = unbiased logits of z / T is `du`.
 */
const addThroughMerge = (
  grad: Float64Array,
  at: number,
  z: readonly number[],
  du: readonly number[],
  s: SsrdReferenceSpec,
  temperature: number,
): void => {
  // u_0 = logsumexp over the background group of z / T spreads du_0 by its softmax.
  const background = [0, ...range(s.newClassesStart, s.channels)];
  const share = softmax(background.map((c) => z[c]), temperature);
  background.forEach((c, i) => (grad[at + c] += (du[0] * share[i]) / temperature));
  for (let j = 1; j < s.oldClasses; j++) grad[at + j] += du[j] / temperature;
};

const kl = (p: readonly number[], q: readonly number[]): number => {
  let total = 0;
  for (let j = 0; j < p.length; j++) {
    if (p[j] > 0) total += p[j] * (Math.log(p[j]) - Math.log(q[j]));
  }
  return total;
};

/** SSRD loss and its two terms (docs/gsc.md §3) in float64. */
export const ssrdReference = (
  newLogits: ArrayLike<number>,
  oldLogits: ArrayLike<number>,
  targets: ArrayLike<number>,
  s: SsrdReferenceSpec,
): { loss: number; soft: number; sharp: number } => {
  const pixels = targets.length;
  const k = s.oldClasses;
  const teacherSum = Array.from({ length: k }, () => new Float64Array(k));
  const studentSum = Array.from({ length: k }, () => new Float64Array(k));
  const counts = new Float64Array(k);
  let sharpTotal = 0;
  for (let p = 0; p < pixels; p++) {
    const y = targets[p];
    if (y < 0 || y >= k) continue;
    const z = row(newLogits, p, s.channels);
    const old = row(oldLogits, p, k);
    const teacher = softmax(old, s.tSoft);
    const student = unbiasedStudent(z, s, s.tSoft);
    for (let j = 0; j < k; j++) {
      teacherSum[y][j] += teacher[j];
      studentSum[y][j] += student[j];
    }
    counts[y] += 1;
    sharpTotal += kl(softmax(old, s.tSharp), unbiasedStudent(z, s, 1));
  }
  let softTotal = 0;
  let present = 0;
  for (let c = 0; c < k; c++) {
    if (counts[c] === 0) continue;
    present++;
    const r0 = Array.from(teacherSum[c], (v) => v / counts[c]);
    const r = Array.from(studentSum[c], (v) => v / counts[c]);
    softTotal += kl(r0, r);
  }
  const sharpPixels = counts.reduce((a, b) => a + b, 0);
  const soft = present === 0 ? 0 : (s.tSoft * s.tSoft * softTotal) / present;
  const sharp = sharpPixels === 0 ? 0 : sharpTotal / sharpPixels;
  return { loss: s.lambdaSoft * soft + s.lambdaSharp * sharp, soft, sharp };
};

/** Analytic gradient of the SSRD loss with respect to the new logits, in float64. */
export const ssrdGradientReference = (
  newLogits: ArrayLike<number>,
  oldLogits: ArrayLike<number>,
  targets: ArrayLike<number>,
  s: SsrdReferenceSpec,
): Float64Array => {
  const pixels = targets.length;
  const k = s.oldClasses;
  const grad = new Float64Array(pixels * s.channels);
  const teacherSum = Array.from({ length: k }, () => new Float64Array(k));
  const studentSum = Array.from({ length: k }, () => new Float64Array(k));
  const counts = new Float64Array(k);
  for (let p = 0; p < pixels; p++) {
    const y = targets[p];
    if (y < 0 || y >= k) continue;
    const teacher = softmax(row(oldLogits, p, k), s.tSoft);
    const student = unbiasedStudent(row(newLogits, p, s.channels), s, s.tSoft);
    for (let j = 0; j < k; j++) {
      teacherSum[y][j] += teacher[j];
      studentSum[y][j] += student[j];
    }
    counts[y] += 1;
  }
  const present = counts.filter((n) => n > 0).length;
  const sharpPixels = counts.reduce((a, b) => a + b, 0);
  for (let p = 0; p < pixels; p++) {
    const y = targets[p];
    if (y < 0 || y >= k) continue;
    const z = row(newLogits, p, s.channels);
    // Soft term: through the class mean and the tempered student.
    const q = unbiasedStudent(z, s, s.tSoft);
    const dq = Array.from(
      { length: k },
      (_, j) =>
        -(s.lambdaSoft * s.tSoft * s.tSoft / present) * (teacherSum[y][j] / studentSum[y][j]) /
        counts[y],
    );
    const dot = q.reduce((acc, qj, j) => acc + qj * dq[j], 0);
    addThroughMerge(grad, p * s.channels, z, q.map((qj, j) => qj * (dq[j] - dot)), s, s.tSoft);
    // Sharp term: (q - target) at T = 1, over the pixel count.
    const q1 = unbiasedStudent(z, s, 1);
    const target = softmax(row(oldLogits, p, k), s.tSharp);
    const du = q1.map((qj, j) => (s.lambdaSharp * (qj - target[j])) / sharpPixels);
    addThroughMerge(grad, p * s.channels, z, du, s, 1);
  }
  return grad;
};

const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

/** Per-pixel details of {@link pseudoRelabelReference}, for tests near decision boundaries. */
export interface RelabelReference {
  readonly labels: Int32Array;
  /** s of the chosen class (NaN where the pixel was not a background pixel). */
  readonly score: Float64Array;
  /** Gap between the best and second-best log-score (Infinity with one candidate). */
  readonly gap: Float64Array;
}

/**
 * PPR (docs/gsc.md §1): on pixels labelled 0, s_c ∝ p'_c kappa_c over the old
 * classes with a valid prototype; c* = argmax s; 0 stays 0, c* != 0 with
 * s >= theta becomes c*, otherwise 255. Other labels are kept.
 */
export const pseudoRelabelReference = (
  labels: ArrayLike<number>,
  oldLogits: ArrayLike<number>,
  oldFeatures: ArrayLike<number>,
  prototypes: ArrayLike<number>,
  prototypeValid: ArrayLike<number>,
  oldClasses: number,
  features: number,
  o: { tau: number; theta: number },
): RelabelReference => {
  const pixels = labels.length;
  const out = Int32Array.from(labels);
  const score = new Float64Array(pixels).fill(NaN);
  const gap = new Float64Array(pixels).fill(Infinity);
  for (let p = 0; p < pixels; p++) {
    if (labels[p] !== 0) continue;
    const h = row(oldFeatures, p, features);
    const hNorm = Math.max(Math.hypot(...h), 1e-8);
    const logScore: number[] = [];
    for (let c = 0; c < oldClasses; c++) {
      if (!prototypeValid[c]) {
        logScore.push(-Infinity);
        continue;
      }
      const eta = row(prototypes, c, features);
      const etaNorm = Math.max(Math.hypot(...eta), 1e-8);
      const cos = h.reduce((acc, v, f) => acc + v * eta[f], 0) / (hNorm * etaNorm);
      // log(p'_c kappa_c) up to a per-pixel constant: z'_c - d_c / tau.
      logScore.push(oldLogits[p * oldClasses + c] - (1 - cos) / o.tau);
    }
    const lse = logSumExp(logScore);
    if (lse === -Infinity) continue; // no valid prototype: the pixel keeps 0
    let best = 0;
    for (let c = 1; c < oldClasses; c++) if (logScore[c] > logScore[best]) best = c;
    const second = Math.max(...logScore.filter((_, c) => c !== best), -Infinity);
    gap[p] = logScore[best] - second;
    score[p] = Math.exp(logScore[best] - lse);
    out[p] = best === 0 ? 0 : score[p] >= o.theta ? best : IGNORE;
  }
  return { labels: out, score, gap };
};

/** Sums of L2-normalised features per target class [C, F] and pixel counts [C]. */
export const accumulatePrototypesReference = (
  features: ArrayLike<number>,
  targets: ArrayLike<number>,
  classes: number,
  width: number,
): { sums: Float64Array; counts: Float64Array } => {
  const sums = new Float64Array(classes * width);
  const counts = new Float64Array(classes);
  for (let p = 0; p < targets.length; p++) {
    const y = targets[p];
    if (y < 0 || y >= classes) continue;
    const h = row(features, p, width);
    const norm = Math.max(Math.hypot(...h), 1e-8);
    for (let f = 0; f < width; f++) sums[y * width + f] += h[f] / norm;
    counts[y] += 1;
  }
  return { sums, counts };
};

/**
 * Prototypes [C, F] (L2-normalised mean) and validity [C]: a class with fewer
 * than `minPixels` pixels keeps its previous prototype and validity (or zeros,
 * invalid, without one).
 */
export const finalizePrototypesReference = (
  sums: ArrayLike<number>,
  counts: ArrayLike<number>,
  classes: number,
  width: number,
  previous:
    | { prototypes: ArrayLike<number>; valid: ArrayLike<number>; classes: number }
    | undefined,
  minPixels: number,
): { prototypes: Float64Array; valid: Uint32Array } => {
  const prototypes = new Float64Array(classes * width);
  const valid = new Uint32Array(classes);
  for (let c = 0; c < classes; c++) {
    if (counts[c] > 0 && counts[c] >= minPixels) {
      const mean = row(sums, c, width).map((v) => v / counts[c]);
      const norm = Math.max(Math.hypot(...mean), 1e-8);
      mean.forEach((v, f) => (prototypes[c * width + f] = v / norm));
      valid[c] = 1;
    } else if (previous && c < previous.classes) {
      for (let f = 0; f < width; f++) {
        prototypes[c * width + f] = previous.prototypes[c * width + f];
      }
      valid[c] = previous.valid[c] ? 1 : 0;
    }
  }
  return { prototypes, valid };
};
