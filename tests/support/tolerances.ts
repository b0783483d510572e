/**
 * Absolute tolerances for comparing f32 kernels of the losses and softmax with their
 * float64 references, scaled to the sum of the |terms| each value is computed from. The
 * kernels cancel where float64 does not (a confident pixel's small loss, the label's
 * gradient q_y - 1, the KL teacher gradient's lp - lq - KL, sigmoid(x) - y near 1), so a
 * relative tolerance on the result means nothing there and a fixed atol hides errors in
 * small values. The 1 added to each log term covers log's absolute error near 1 (2^-21 in
 * WGSL); exp's relative error (3 + 2 |x| ulps) is left to the rtol the caller picks.
 *
 * @module
 */
import { logSoftmaxRow } from "../reference/softmax.ts";
import { crossEntropyReference, klReference } from "../reference/loss.ts";
import { maskWeightReference } from "../reference/masked.ts";
import { EPS32 } from "./gpu.ts";

/** none / sum / mean, as in src/ops/loss.ts. */
export type ReductionName = "none" | "sum" | "mean";

/** Ulps of the summed |terms| allowed: rounding of a few operations per term. */
export const TERMS_ULPS = 32 * EPS32;

/** |upstream gradient| reaching pixel p under a reduction over `den`. */
const upstreamAbs = (g: ArrayLike<number>, reduction: ReductionName, den: number) => (p: number) =>
  Math.abs(reduction === "none" ? g[p] : reduction === "sum" ? g[0] : den === 0 ? 0 : g[0] / den);

/** Per-element tolerances of a loss map, reduced like the map. */
const reducedAtol = (perElement: number[], reduction: ReductionName, den: number): number[] =>
  reduction === "none"
    ? perElement
    : [perElement.reduce((a, b) => a + b, 0) / (reduction === "mean" && den > 0 ? den : 1)];

/** Tolerances of the cross-entropy loss and its logit gradient (g: the upstream gradient). */
export const ceAtol = (
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  channels: number,
  g: ArrayLike<number>,
  options: { readonly weights?: ArrayLike<number>; readonly reduction?: ReductionName },
): { loss: number[]; dz: number[] } => {
  const reduction = options.reduction ?? "mean";
  const { valid } = crossEntropyReference(logits, labels, channels, options);
  const u = upstreamAbs(g, reduction, valid);
  const loss: number[] = [];
  const dz = new Array<number>(logits.length).fill(0);
  for (let p = 0; p < labels.length; p++) {
    const y = labels[p];
    if (!(Number.isInteger(y) && y >= 0 && y < channels)) {
      loss.push(0);
      continue;
    }
    const w = Math.abs(options.weights ? options.weights[p] : 1);
    const lsm = logSoftmaxRow(logits, p * channels, channels);
    // -lsm_y = (max - z_y) + log(sum): both terms >= 0, so |lsm_y| is their sum.
    loss.push(TERMS_ULPS * w * (Math.abs(lsm[y]) + 1));
    lsm.forEach((l, k) => {
      dz[p * channels + k] = TERMS_ULPS * u(p) * w * (Math.exp(l) + (k === y ? 1 : 0));
    });
  }
  return { loss: reducedAtol(loss, reduction, valid), dz };
};

/** KL options, as the reference takes them. */
export interface KlToleranceOptions {
  readonly teacher?: "probs" | "logits";
  readonly student?: "logits" | "logProbs";
  readonly temperature?: number;
  readonly mask?: ArrayLike<number>;
  readonly integerMask?: boolean;
  readonly reduction?: ReductionName;
}

/** Tolerances of the KL loss and its student and teacher gradients. */
export const klAtol = (
  teacher: ArrayLike<number>,
  student: ArrayLike<number>,
  channels: number,
  g: ArrayLike<number>,
  o: KlToleranceOptions,
): { loss: number[]; ds: number[]; dt: number[] } => {
  const reduction = o.reduction ?? "mean";
  const { weight } = klReference(teacher, student, channels, o);
  const u = upstreamAbs(g, reduction, weight);
  const t = o.temperature ?? 1;
  const row = (x: ArrayLike<number>, base: number) =>
    Array.from({ length: channels }, (_, k) => x[base + k]);
  const loss: number[] = [];
  const ds: number[] = [];
  const dt: number[] = [];
  for (let base = 0, p = 0; base < student.length; base += channels, p++) {
    const w = Math.abs(o.mask ? maskWeightReference(o.mask, o.integerMask ?? false, p) : 1);
    const pr = o.teacher === "logits"
      ? logSoftmaxRow(teacher, base, channels, t).map(Math.exp)
      : row(teacher, base);
    const lq = o.student === "logProbs"
      ? row(student, base)
      : logSoftmaxRow(student, base, channels, t);
    const mass = pr.reduce((a, b) => a + b, 0);
    const lp = pr.map((v) => (v > 0 ? Math.log(v) : 0));
    // sum p |lp - lq|: a bound on |KL| and on the error of the KL the teacher gradient uses.
    const klBound = pr.reduce((s, v, k) => s + v * Math.abs(lp[k] - lq[k]), 0);
    const terms = pr.map((v, k) => v * (1 + Math.abs(lp[k]) + Math.abs(lq[k])));
    loss.push(TERMS_ULPS * w * terms.reduce((a, b) => a + b, 0));
    const scale = TERMS_ULPS * u(p) * w;
    for (let k = 0; k < channels; k++) {
      ds.push(scale * (o.student === "logProbs" ? pr[k] : (Math.exp(lq[k]) * mass + pr[k]) / t));
      dt.push(scale * (terms[k] + pr[k] * klBound) / t);
    }
  }
  return { loss: reducedAtol(loss, reduction, weight), ds, dt };
};

/** Tolerances of BCE with logits (mean over all elements by default) and its gradient. */
export const bceAtol = (
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  g: ArrayLike<number>,
  reduction: ReductionName = "mean",
): { loss: number[]; dx: number[] } => {
  const n = x.length;
  const u = upstreamAbs(g, reduction, n);
  const loss: number[] = [];
  const dx: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = x[i];
    const softplus = Math.log1p(Math.exp(-Math.abs(v)));
    // max(x, 0) - x y + log1p(e^-|x|): the |terms|; log near 1 (|x| < 4.85) errs by up to
    // 2^-21 absolutely, exp(-|x|) by 3 + 2 |x| ulps.
    const terms = Math.max(v, 0) + Math.abs(v * y[i]) + softplus;
    const logError = Math.abs(v) < 4.85 ? 2 ** -21 : 0;
    const expError = softplus * (3 + 2 * Math.abs(v)) * 2 * EPS32;
    loss.push(8 * EPS32 * terms + logError + expError);
    // sigmoid(x) - y.
    dx.push(8 * EPS32 * u(i) * (1 / (1 + Math.exp(-v)) + Math.abs(y[i])));
  }
  return { loss: reducedAtol(loss, reduction, n), dx };
};

/**
 * Tolerances of the softmax (or log-softmax) backward of g at z / T:
 *   softmax:     dz_k = s_k (g_k - sum_j g_j s_j) / T
 *   log-softmax: dz_k = (g_k - s_k sum_j g_j) / T
 * with the forward's error carried in: the kernels subtract the row's maximum m first, so a
 * log-softmax value errs by about eps |z - m| / T absolutely and a softmax value (exp's
 * 3 + 2 |x| ulps) by about eps |z - m| / T relatively.
 */
export const softmaxBackwardAtol = (
  z: ArrayLike<number>,
  g: ArrayLike<number>,
  channels: number,
  temperature = 1,
  log = false,
  ulps = 16 * EPS32,
): number[] => {
  const out: number[] = [];
  for (let base = 0; base < z.length; base += channels) {
    const s = logSoftmaxRow(z, base, channels, temperature).map(Math.exp);
    let max = -Infinity;
    let min = Infinity;
    for (let k = 0; k < channels; k++) {
      max = Math.max(max, z[base + k]);
      min = Math.min(min, z[base + k]);
    }
    const forward = 1 + (2 * (max - min)) / temperature;
    let sumAbs = 0;
    let weighted = 0;
    for (let k = 0; k < channels; k++) {
      sumAbs += Math.abs(g[base + k]);
      weighted += Math.abs(g[base + k]) * s[k];
    }
    for (let k = 0; k < channels; k++) {
      const gk = Math.abs(g[base + k]);
      const terms = log ? gk + s[k] * sumAbs * forward : s[k] * (gk + weighted) * forward;
      out.push((ulps * terms) / temperature);
    }
  }
  return out;
};

/**
 * Tolerances of a bilinear resize (align_corners=False) and of its backward: ulps of the
 * sum of the |terms| (weights times values), plus the tap weights' own error. The kernel
 * computes a source coordinate (o + 0.5) * scale - 0.5 in f32, so a weight errs by a few
 * ulps of the coordinate, up to the input's size, times the difference of the two taps.
 */
export const resizeAtol = (
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  shape: readonly number[],
  outH: number,
  outW: number,
  ulps = 16 * EPS32,
): { y: number[]; dx: number[] } => {
  const [n, h, w, c] = shape;
  const taps = (o: number, input: number, output: number) => {
    const src = Math.max((o + 0.5) * (input / output) - 0.5, 0);
    const i0 = Math.min(Math.floor(src), input - 1);
    const i1 = i0 < input - 1 ? i0 + 1 : i0;
    return { i0, i1, w1: src - i0, w0: 1 - (src - i0), error: 4 * EPS32 * (src + 1) };
  };
  const y = new Array<number>(n * outH * outW * c).fill(0);
  const dx = new Array<number>(n * h * w * c).fill(0);
  const index = (b: number, i: number, j: number, ch: number) => ((b * h + i) * w + j) * c + ch;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < outH; i++) {
      const ty = taps(i, h, outH);
      for (let j = 0; j < outW; j++) {
        const tx = taps(j, w, outW);
        for (let ch = 0; ch < c; ch++) {
          const at = (r: number, s: number) => x[index(b, r, s, ch)];
          const [x00, x01] = [at(ty.i0, tx.i0), at(ty.i0, tx.i1)];
          const [x10, x11] = [at(ty.i1, tx.i0), at(ty.i1, tx.i1)];
          const terms = ty.w0 * (tx.w0 * Math.abs(x00) + tx.w1 * Math.abs(x01)) +
            ty.w1 * (tx.w0 * Math.abs(x10) + tx.w1 * Math.abs(x11));
          const top = tx.w0 * x00 + tx.w1 * x01;
          const bottom = tx.w0 * x10 + tx.w1 * x11;
          const weights = ty.error * Math.abs(bottom - top) +
            tx.error * (ty.w0 * Math.abs(x01 - x00) + ty.w1 * Math.abs(x11 - x10));
          const o = ((b * outH + i) * outW + j) * c + ch;
          y[o] = ulps * terms + weights;
          const g = Math.abs(dy[o]);
          const spread = (r: number, s: number, weight: number) => {
            dx[index(b, r, s, ch)] += (ulps * weight + ty.error + tx.error) * g;
          };
          spread(ty.i0, tx.i0, ty.w0 * tx.w0);
          spread(ty.i0, tx.i1, ty.w0 * tx.w1);
          spread(ty.i1, tx.i0, ty.w1 * tx.w0);
          spread(ty.i1, tx.i1, ty.w1 * tx.w1);
        }
      }
    }
  }
  return { y, dx };
};
