/**
 * Float64 references of GSC's parts (docs/gsc.md): SGC weights (HFC's
 * compressed, per-step gain), FISS's soft-label, entropy and class relation
 * terms with their gradients, PPR's prototype-corrected posterior and the prototypes. Plain
 * TypeScript over flat NHWC arrays, used by the tests only.
 *
 * @module
 */

const logSumExp = (values: readonly number[]): number => {
  const m = Math.max(...values);
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (const v of values) s += Math.exp(v - m);
  return m + Math.log(s);
};

const softmax = (values: readonly number[]): number[] => {
  const lse = logSumExp(values);
  return values.map((v) => Math.exp(v - lse));
};

const row = (a: ArrayLike<number>, p: number, width: number): number[] =>
  Array.from({ length: width }, (_, j) => a[p * width + j]);

/** Options of {@link sgcWeightsReference}. */
export interface SgcReferenceOptions {
  readonly step: number;
  readonly zeta: number;
  readonly min: number;
  readonly max: number;
  /** Clamp into [min, max] (default true). */
  readonly clip?: boolean;
}

/**
 * SGC weights [P]: g = 1 - softmax(z)[y], v = log(1 + g^zeta); on a pixel of
 * an old step k (targets in [0, C), step(y) < t) w = base * clamp(v / mean of
 * v over S_k) (1 for a group whose mean is 0); base elsewhere (current step,
 * 255, step 0). `base` defaults to 1.
 */
export const sgcWeightsReference = (
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  classStep: ArrayLike<number>,
  channels: number,
  o: SgcReferenceOptions,
  base?: ArrayLike<number>,
): Float64Array => {
  const pixels = targets.length;
  const w = Float64Array.from({ length: pixels }, (_, p) => base ? base[p] : 1);
  if (o.step === 0) return w;
  const gain = new Float64Array(pixels);
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
    gain[p] = Math.log(1 + Math.pow(rest, o.zeta));
    group[p] = k;
    sums[k] += gain[p];
    counts[k] += 1;
  }
  for (let p = 0; p < pixels; p++) {
    const k = group[p];
    if (k < 0) continue;
    const mean = sums[k] / counts[k];
    const raw = mean > 0 ? gain[p] / mean : 1;
    w[p] *= o.clip === false ? raw : Math.min(o.max, Math.max(o.min, raw));
  }
  return w;
};

/** FISS's soft label of one pixel: softmax([sigmoid(z'), one-hot of a current target or 0]). */
export const softLabelReference = (
  old: readonly number[],
  target: number,
  channels: number,
): number[] => {
  const raw = Array.from(
    { length: channels },
    (_, c) => (c < old.length ? 1 / (1 + Math.exp(-old[c])) : c === target ? 1 : 0),
  );
  return softmax(raw);
};

/** Layout of the SSRD references: C student channels, K old classes. */
export interface SsrdReferenceSpec {
  readonly channels: number;
  readonly oldClasses: number;
}

const takesSoft = (y: number, channels: number) => y >= 0 && y < channels;

/**
 * FISS's soft-label term: the mean over pixels whose target is a class (not
 * 255) of -(1/C) sum_c q_c log softmax(z)_c; 0 without such pixels.
 */
export const ssrdSoftLabelReference = (
  newLogits: ArrayLike<number>,
  oldLogits: ArrayLike<number>,
  targets: ArrayLike<number>,
  s: SsrdReferenceSpec,
): number => {
  let total = 0;
  let count = 0;
  for (let p = 0; p < targets.length; p++) {
    if (!takesSoft(targets[p], s.channels)) continue;
    const z = row(newLogits, p, s.channels);
    const lse = logSumExp(z);
    const q = softLabelReference(row(oldLogits, p, s.oldClasses), targets[p], s.channels);
    total += -q.reduce((a, qc, c) => a + qc * (z[c] - lse), 0) / s.channels;
    count++;
  }
  return count === 0 ? 0 : total / count;
};

/** Gradient of {@link ssrdSoftLabelReference}: (p - q) / (C M) on the counted pixels. */
export const ssrdSoftLabelGradientReference = (
  newLogits: ArrayLike<number>,
  oldLogits: ArrayLike<number>,
  targets: ArrayLike<number>,
  s: SsrdReferenceSpec,
): Float64Array => {
  const grad = new Float64Array(targets.length * s.channels);
  let count = 0;
  for (let p = 0; p < targets.length; p++) if (takesSoft(targets[p], s.channels)) count++;
  for (let p = 0; p < targets.length; p++) {
    if (!takesSoft(targets[p], s.channels)) continue;
    const prob = softmax(row(newLogits, p, s.channels));
    const q = softLabelReference(row(oldLogits, p, s.oldClasses), targets[p], s.channels);
    prob.forEach((pc, c) => (grad[p * s.channels + c] = (pc - q[c]) / (s.channels * count)));
  }
  return grad;
};

/** One pixel's entropy term -(1/C) sum_c p_c log p_c of the logits `z`. */
export const pixelEntropyReference = (z: readonly number[]): number => {
  const lse = logSumExp(z);
  return -z.reduce((a, v) => a + Math.exp(v - lse) * (v - lse), 0) / z.length;
};

/** FISS's entropy term: the mean over every pixel of -(1/C) sum_c p_c log p_c. */
export const ssrdEntropyReference = (newLogits: ArrayLike<number>, channels: number): number => {
  const pixels = newLogits.length / channels;
  let total = 0;
  for (let p = 0; p < pixels; p++) total += pixelEntropyReference(row(newLogits, p, channels));
  return pixels === 0 ? 0 : total / pixels;
};

/** Gradient of {@link ssrdEntropyReference}: -p_c (log p_c - S) / (C P). */
export const ssrdEntropyGradientReference = (
  newLogits: ArrayLike<number>,
  channels: number,
): Float64Array => {
  const pixels = newLogits.length / channels;
  const grad = new Float64Array(newLogits.length);
  for (let p = 0; p < pixels; p++) {
    const z = row(newLogits, p, channels);
    const lse = logSumExp(z);
    const logP = z.map((v) => v - lse);
    const s = logP.reduce((a, l) => a + Math.exp(l) * l, 0);
    logP.forEach((l, c) => (grad[p * channels + c] = -Math.exp(l) * (l - s) / (channels * pixels)));
  }
  return grad;
};

/** The first index of a row's maximum. */
const firstArgmax = (z: readonly number[]): number =>
  z.reduce((best, v, j) => (v > z[best] ? j : best), 0);

/** Per-class statistics of the relation term (means are 0 for a class without pixels). */
const relationStats = (
  newLogits: ArrayLike<number>,
  oldLogits: ArrayLike<number>,
  targets: ArrayLike<number>,
  weights: ArrayLike<number>,
  channels: number,
) => {
  const pixels = targets.length;
  const oldClasses = oldLogits.length / pixels;
  const sums = { newP: new Float64Array(channels), oldP: new Float64Array(channels) };
  const wSum = new Float64Array(channels);
  const nNew = new Float64Array(channels);
  const nOld = new Float64Array(channels);
  for (let p = 0; p < pixels; p++) {
    const z = row(newLogits, p, channels);
    const c = firstArgmax(z);
    sums.newP[c] += Math.max(...softmax(z));
    nNew[c]++;
    const y = targets[p];
    if (y >= 0 && y < channels) {
      sums.oldP[y] += Math.max(...softmax(row(oldLogits, p, oldClasses)));
      wSum[y] += weights[p];
      nOld[y]++;
    }
  }
  const mean = (s: Float64Array, n: Float64Array) =>
    Array.from(s, (v, c) => (n[c] > 0 ? v / n[c] : 0));
  return {
    mNew: mean(sums.newP, nNew),
    mOld: mean(sums.oldP, nOld),
    wBar: mean(wSum, nOld),
    nNew,
  };
};

/**
 * FISS's class relation term: (1/C) sum_c |wbar_c (m_new_c - m_old_c)| with
 * m_new_c the mean of the student's largest probability over the pixels it
 * predicts as c (first argmax), m_old_c the teacher's over the pixels whose
 * target is c, wbar_c the mean weight over those pixels (0 without pixels).
 */
export const ssrdRelationReference = (
  newLogits: ArrayLike<number>,
  oldLogits: ArrayLike<number>,
  targets: ArrayLike<number>,
  weights: ArrayLike<number>,
  channels: number,
): number => {
  const s = relationStats(newLogits, oldLogits, targets, weights, channels);
  let total = 0;
  for (let c = 0; c < channels; c++) total += Math.abs(s.wBar[c] * (s.mNew[c] - s.mOld[c]));
  return total / channels;
};

/**
 * Gradient of {@link ssrdRelationReference}: pixel i predicting c gets
 * sign(d_c) wbar_c / (C n_c) * p_c (delta_jc - p_j), d_c = wbar_c (m_new_c - m_old_c).
 */
export const ssrdRelationGradientReference = (
  newLogits: ArrayLike<number>,
  oldLogits: ArrayLike<number>,
  targets: ArrayLike<number>,
  weights: ArrayLike<number>,
  channels: number,
): Float64Array => {
  const s = relationStats(newLogits, oldLogits, targets, weights, channels);
  const grad = new Float64Array(newLogits.length);
  for (let p = 0; p < targets.length; p++) {
    const z = row(newLogits, p, channels);
    const c = firstArgmax(z);
    const probs = softmax(z);
    const coef = Math.sign(s.wBar[c] * (s.mNew[c] - s.mOld[c])) * s.wBar[c] /
      (channels * s.nNew[c]);
    for (let j = 0; j < channels; j++) {
      grad[p * channels + j] = coef * probs[c] * ((j === c ? 1 : 0) - probs[j]);
    }
  }
  return grad;
};

/**
 * PPR's corrected posterior of one pixel, in the product form of
 * docs/gsc-method.md: p~_c = p'_c kappa_c / sum_j p'_j kappa_j with
 * kappa = softmax(cos(h', eta) / tau); a class without a valid prototype
 * takes cos = 0.
 */
export const correctedPosteriorReference = (
  old: readonly number[],
  feature: readonly number[],
  prototypes: ArrayLike<number>,
  valid: ArrayLike<number>,
  tau: number,
): number[] => {
  const width = feature.length;
  const hNorm = Math.max(Math.hypot(...feature), 1e-8);
  const cos = old.map((_, c) => {
    if (!valid[c]) return 0;
    const eta = row(prototypes, c, width);
    const etaNorm = Math.max(Math.hypot(...eta), 1e-8);
    return feature.reduce((a, v, f) => a + v * eta[f], 0) / (hNorm * etaNorm);
  });
  const kappa = softmax(cos.map((v) => v / tau));
  const prior = softmax(old);
  const product = prior.map((p, c) => p * kappa[c]);
  const total = product.reduce((a, b) => a + b, 0);
  return product.map((v) => v / total);
};

/**
 * PPR's corrected logits [P, K] as the kernel writes them, z'_c + cos / tau
 * (softmax of a row is {@link correctedPosteriorReference}).
 */
export const correctedLogitsReference = (
  oldLogits: ArrayLike<number>,
  oldFeatures: ArrayLike<number>,
  prototypes: ArrayLike<number>,
  valid: ArrayLike<number>,
  oldClasses: number,
  width: number,
  tau: number,
): Float64Array => {
  const pixels = oldClasses === 0 ? 0 : oldLogits.length / oldClasses;
  const out = new Float64Array(oldLogits.length);
  for (let p = 0; p < pixels; p++) {
    const h = row(oldFeatures, p, width);
    const hNorm = Math.max(Math.hypot(...h), 1e-8);
    for (let c = 0; c < oldClasses; c++) {
      let cos = 0;
      if (valid[c]) {
        const eta = row(prototypes, c, width);
        const etaNorm = Math.max(Math.hypot(...eta), 1e-8);
        cos = h.reduce((a, v, f) => a + v * eta[f], 0) / (hNorm * etaNorm);
      }
      out[p * oldClasses + c] = oldLogits[p * oldClasses + c] + cos / tau;
    }
  }
  return out;
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
