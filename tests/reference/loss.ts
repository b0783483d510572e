/**
 * Float64 references for the per-pixel losses: cross-entropy with ignore
 * index and weights (src/ops/cross_entropy.ts), KL divergence over channels
 * (src/ops/kl.ts) and BCE with logits (src/ops/bce.ts). Data is [pixels,
 * channels] row-major; a reduced loss is returned as a one-element array.
 *
 * @module
 */
import { logSoftmaxRow } from "./softmax.ts";
import { maskWeightReference } from "./masked.ts";

/** none / sum / mean, as in src/ops/loss.ts. */
export type ReductionName = "none" | "sum" | "mean";

const reduceMap = (map: number[], reduction: ReductionName, den: number): number[] => {
  if (reduction === "none") return map;
  const sum = map.reduce((a, b) => a + b, 0);
  return [reduction === "sum" ? sum : den === 0 ? 0 : sum / den];
};

/** The gradient reaching pixel i for upstream gradient g under a reduction. */
const upstreamOf = (g: ArrayLike<number>, reduction: ReductionName, den: number) => (i: number) =>
  reduction === "none" ? g[i] : reduction === "sum" ? g[0] : den === 0 ? 0 : g[0] / den;

const isValidLabel = (label: number, channels: number) =>
  Number.isInteger(label) && label >= 0 && label < channels;

/** Cross-entropy options of the references. */
export interface CrossEntropyReferenceOptions {
  readonly weights?: ArrayLike<number>;
  readonly reduction?: ReductionName;
  /** The mean's denominator: the valid pixels (default) or every pixel. */
  readonly meanOver?: "valid" | "all";
}

/** The mean's denominator: every pixel for meanOver "all", else the valid ones. */
const meanDenominator = (options: CrossEntropyReferenceOptions, pixels: number, valid: number) =>
  options.meanOver === "all" ? pixels : valid;

/** Cross-entropy with ignore index 255; `bad` counts labels neither in [0, C) nor 255. */
export const crossEntropyReference = (
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  channels: number,
  options: CrossEntropyReferenceOptions = {},
): { loss: number[]; valid: number; bad: number } => {
  const map: number[] = [];
  let valid = 0;
  let bad = 0;
  for (let p = 0; p < labels.length; p++) {
    const y = labels[p];
    if (!isValidLabel(y, channels)) {
      if (y !== 255) bad++;
      map.push(0);
      continue;
    }
    valid++;
    const w = options.weights ? options.weights[p] : 1;
    map.push(-w * logSoftmaxRow(logits, p * channels, channels)[y]);
  }
  const den = meanDenominator(options, labels.length, valid);
  return { loss: reduceMap(map, options.reduction ?? "mean", den), valid, bad };
};

/** dL/dz = u_i w_i (softmax(z_i) - onehot(y_i)) on valid pixels, 0 elsewhere. */
export const crossEntropyBackwardReference = (
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  channels: number,
  g: ArrayLike<number>,
  options: CrossEntropyReferenceOptions = {},
): number[] => {
  const { valid } = crossEntropyReference(logits, labels, channels, options);
  const den = meanDenominator(options, labels.length, valid);
  const u = upstreamOf(g, options.reduction ?? "mean", den);
  const dz = new Array<number>(logits.length).fill(0);
  for (let p = 0; p < labels.length; p++) {
    const y = labels[p];
    if (!isValidLabel(y, channels)) continue;
    const scale = u(p) * (options.weights ? options.weights[p] : 1);
    const q = logSoftmaxRow(logits, p * channels, channels).map(Math.exp);
    for (let k = 0; k < channels; k++) {
      dz[p * channels + k] = scale * (q[k] - (k === y ? 1 : 0));
    }
  }
  return dz;
};

/** KL options of the references (see src/ops/kl.ts). */
export interface KlReferenceOptions {
  readonly teacher?: "probs" | "logits";
  readonly student?: "logits" | "logProbs";
  readonly temperature?: number;
  readonly mask?: ArrayLike<number>;
  readonly integerMask?: boolean;
  readonly reduction?: ReductionName;
}

const teacherRow = (t: ArrayLike<number>, base: number, c: number, o: KlReferenceOptions) =>
  o.teacher === "logits"
    ? logSoftmaxRow(t, base, c, o.temperature ?? 1).map(Math.exp)
    : Array.from({ length: c }, (_, k) => t[base + k]);

const studentRow = (s: ArrayLike<number>, base: number, c: number, o: KlReferenceOptions) =>
  o.student === "logProbs"
    ? Array.from({ length: c }, (_, k) => s[base + k])
    : logSoftmaxRow(s, base, c, o.temperature ?? 1);

const pixelKl = (p: number[], lq: number[]) =>
  p.reduce((sum, pk, k) => (pk > 0 ? sum + pk * (Math.log(pk) - lq[k]) : sum), 0);

const weightOf = (o: KlReferenceOptions, p: number) =>
  o.mask ? maskWeightReference(o.mask, o.integerMask ?? false, p) : 1;

/** KL(p || q) per pixel, weighted by the mask; the mean divides by the mask's sum. */
export const klReference = (
  teacher: ArrayLike<number>,
  student: ArrayLike<number>,
  channels: number,
  options: KlReferenceOptions = {},
): { loss: number[]; weight: number } => {
  const map: number[] = [];
  let weight = 0;
  for (let base = 0, p = 0; base < student.length; base += channels, p++) {
    const w = weightOf(options, p);
    weight += w;
    const kl = w === 0 ? 0 : w *
      pixelKl(
        teacherRow(teacher, base, channels, options),
        studentRow(student, base, channels, options),
      );
    map.push(kl);
  }
  return { loss: reduceMap(map, options.reduction ?? "mean", weight), weight };
};

/**
 * Analytic gradients of {@link klReference} for upstream gradient g: the
 * student's (logits or log-probs) and, in the logits form, the teacher's.
 */
export const klBackwardReference = (
  teacher: ArrayLike<number>,
  student: ArrayLike<number>,
  channels: number,
  g: ArrayLike<number>,
  options: KlReferenceOptions = {},
): { student: number[]; teacher: number[] } => {
  const { weight } = klReference(teacher, student, channels, options);
  const u = upstreamOf(g, options.reduction ?? "mean", weight);
  const invT = 1 / (options.temperature ?? 1);
  const ds: number[] = [];
  const dt: number[] = [];
  for (let base = 0, p = 0; base < student.length; base += channels, p++) {
    const scale = u(p) * weightOf(options, p);
    const pr = teacherRow(teacher, base, channels, options);
    const lq = studentRow(student, base, channels, options);
    const mass = pr.reduce((a, b) => a + b, 0);
    const kl = pixelKl(pr, lq);
    for (let k = 0; k < channels; k++) {
      ds.push(
        options.student === "logProbs"
          ? -scale * pr[k]
          : scale * (Math.exp(lq[k]) * mass - pr[k]) * invT,
      );
      dt.push(pr[k] > 0 ? scale * pr[k] * (Math.log(pr[k]) - lq[k] - kl) * invT : 0);
    }
  }
  return { student: ds, teacher: dt };
};

/** BCE with logits per element, reduced (mean over all elements by default). */
export const bceReference = (
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  reduction: ReductionName = "mean",
): number[] => {
  const map = Array.from(logits, (x, i) => {
    // log(1 + e^x) - x y, written to stay finite for large |x|.
    const softplus = Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    return softplus - x * targets[i];
  });
  return reduceMap(map, reduction, logits.length);
};

/** Gradient of {@link bceReference}: u_i (sigmoid(x_i) - y_i). */
export const bceBackwardReference = (
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  g: ArrayLike<number>,
  reduction: ReductionName = "mean",
): number[] => {
  const u = upstreamOf(g, reduction, logits.length);
  return Array.from(logits, (x, i) => u(i) * (1 / (1 + Math.exp(-x)) - targets[i]));
};
