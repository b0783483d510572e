/**
 * Float64 references for the baselines' losses (src/incremental/losses/):
 * MiB's unbiased cross-entropy and unbiased distillation, LwF's distillation
 * as MiB implements it, ILT's feature MSE, PLOP's local POD and PLOP's
 * entropy pseudo labels. Logits are [pixels, channels] row-major (NHWC
 * flattened); feature maps are NHWC with their shape given.
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
const softmaxRow = (t: ArrayLike<number>, base: number, c: number, alpha = 1): number[] => {
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

/** An NHWC shape [N, H, W, C]. */
export type Nhwc = readonly [number, number, number, number];

/** One pooled strip of PLOP's local POD: rows [y0, y1) x cols [x0, x1) of a region. */
export interface PodRegion {
  readonly y0: number;
  readonly y1: number;
  readonly x0: number;
  readonly x1: number;
}

/**
 * The regions of PLOP's `_local_pod`: for each scale s, k = W div s and the
 * s x s regions rows [i k, (i+1) k) x cols [j k, (j+1) k), clipped to the map
 * as Python slicing clips (PLOP takes k from the width for both axes).
 */
export const podRegions = (height: number, width: number, scales: readonly number[]) => {
  const regions: PodRegion[] = [];
  for (const s of scales) {
    const k = Math.floor(width / s);
    for (let i = 0; i < s; i++) {
      for (let j = 0; j < s; j++) {
        regions.push({
          y0: Math.min(i * k, height),
          y1: Math.min((i + 1) * k, height),
          x0: Math.min(j * k, width),
          x1: Math.min((j + 1) * k, width),
        });
      }
    }
  }
  return regions;
};

/** How PLOP pre-processes a map before pooling: "pow" squares it (PLOP's default). */
export type PodPrepro = "pow" | "none";

/**
 * PLOP's local POD embedding of each image of `x` (NHWC): per region, the
 * mean over the region's width of every (channel, row), then the mean over
 * its height of every (channel, column), concatenated (channel-major, as
 * torch's view(b, -1) of (b, c, rows) orders them).
 */
export const localPodEmbeddingReference = (
  x: ArrayLike<number>,
  shape: Nhwc,
  scales: readonly number[],
  prepro: PodPrepro = "pow",
): number[][] => {
  const [n, h, w, c] = shape;
  const at = (b: number, y: number, xx: number, k: number) => {
    const v = x[((b * h + y) * w + xx) * c + k];
    return prepro === "pow" ? v * v : v;
  };
  const out: number[][] = [];
  for (let b = 0; b < n; b++) {
    const emb: number[] = [];
    for (const r of podRegions(h, w, scales)) {
      const rows = r.y1 - r.y0;
      const cols = r.x1 - r.x0;
      for (let k = 0; k < c; k++) {
        for (let y = r.y0; y < r.y1; y++) {
          let s = 0;
          for (let xx = r.x0; xx < r.x1; xx++) s += at(b, y, xx, k);
          emb.push(s / cols);
        }
      }
      for (let k = 0; k < c; k++) {
        for (let xx = r.x0; xx < r.x1; xx++) {
          let s = 0;
          for (let y = r.y0; y < r.y1; y++) s += at(b, y, xx, k);
          emb.push(s / rows);
        }
      }
    }
    out.push(emb);
  }
  return out;
};

/** Options of the local POD references. */
export interface PodReferenceOptions {
  readonly scales?: readonly number[];
  readonly normalize?: boolean;
  readonly prepro?: PodPrepro;
}

const l2Normalized = (v: number[]): number[] => {
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => x / Math.max(norm, 1e-12));
};

/** One layer of PLOP's local POD: mean over images of ||emb(new) - emb(old)||_2. */
export const localPodLayerReference = (
  newX: ArrayLike<number>,
  oldX: ArrayLike<number>,
  shape: Nhwc,
  options: PodReferenceOptions = {},
): number => {
  const scales = options.scales ?? [1, 2, 4];
  const embed = (x: ArrayLike<number>) =>
    localPodEmbeddingReference(x, shape, scales, options.prepro ?? "pow").map((e) =>
      options.normalize ? l2Normalized(e) : e
    );
  const a = embed(newX);
  const b = embed(oldX);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    sum += Math.sqrt(a[i].reduce((s, v, k) => s + (v - b[i][k]) ** 2, 0));
  }
  return a.length === 0 ? 0 : sum / a.length;
};

/** PLOP's local POD averaged over layers (each layer weighted, default 1). */
export const localPodReference = (
  newStages: readonly ArrayLike<number>[],
  oldStages: readonly ArrayLike<number>[],
  shapes: readonly Nhwc[],
  options: PodReferenceOptions & { readonly weights?: readonly number[] } = {},
): number => {
  let sum = 0;
  for (let l = 0; l < newStages.length; l++) {
    const weight = options.weights ? options.weights[l] : 1;
    sum += weight * localPodLayerReference(newStages[l], oldStages[l], shapes[l], options);
  }
  return newStages.length === 0 ? 0 : sum / newStages.length;
};

/**
 * PLOP's "extra_channels: sum" for the logits layer: the new model's
 * channels collapse to the old count, channel 0 = z_0 + sum of the new
 * classes' logits, channels 1..old-1 unchanged.
 */
export const collapseNewLogitsReference = (
  z: ArrayLike<number>,
  channels: number,
  oldClasses: number,
): number[] => {
  const pixels = z.length / channels;
  const out: number[] = [];
  for (let p = 0; p < pixels; p++) {
    const base = p * channels;
    let bg = z[base];
    for (let k = oldClasses; k < channels; k++) bg += z[base + k];
    out.push(bg);
    for (let k = 1; k < oldClasses; k++) out.push(z[base + k]);
  }
  return out;
};

/**
 * PLOP's normalised entropy of one pixel of the old model: its `entropy()`
 * (-(1 / log(C + 1e-8)) mean_c p_c log(p_c + 1e-8), C the old channel count)
 * divided by `max_value` = log(seen classes), and the argmax class.
 */
export const plopEntropyReference = (
  oldLogits: ArrayLike<number>,
  pixel: number,
  oldClasses: number,
  seenClasses: number,
): { entropy: number; argmax: number } => {
  const p = softmaxRow(oldLogits, pixel * oldClasses, oldClasses);
  let argmax = 0;
  for (let k = 1; k < oldClasses; k++) if (p[k] > p[argmax]) argmax = k;
  const mean = p.reduce((s, pk) => s + pk * Math.log(pk + 1e-8), 0) / oldClasses;
  const entropy = -mean / Math.log(oldClasses + 1e-8) / Math.log(seenClasses);
  return { entropy, argmax };
};

/**
 * PLOP's `find_median` histogram over one batch: for each pixel labelled 0,
 * bin min(trunc(entropy * bins), bins - 1) of its argmax class; [old, bins].
 */
export const entropyHistogramReference = (
  oldLogits: ArrayLike<number>,
  labels: ArrayLike<number>,
  oldClasses: number,
  bins: number,
  seenClasses: number,
): number[] => {
  const histogram = new Array<number>(oldClasses * bins).fill(0);
  for (let p = 0; p < labels.length; p++) {
    if (labels[p] !== 0) continue;
    const { entropy, argmax } = plopEntropyReference(oldLogits, p, oldClasses, seenClasses);
    const bin = Math.max(0, Math.min(Math.trunc(entropy * bins), bins - 1));
    histogram[argmax * bins + bin]++;
  }
  return histogram;
};

/** Result of {@link plopPseudoLabelsReference}. */
export interface PseudoLabelsReference {
  readonly targets: number[];
  /** Per image: confident background pixels / background pixels (1 without background). */
  readonly imageFactors: number[];
  /** Each pixel's image factor. */
  readonly pixelWeights: number[];
  /** The mean of the image factors. */
  readonly adaptiveFactor: number;
}

/**
 * PLOP's entropy pseudo labels: a pixel labelled below `oldClasses` takes
 * the old argmax class when its normalised entropy is below that class's
 * threshold, else 255; other labels stay. `imagePixels` = H * W.
 */
export const plopPseudoLabelsReference = (
  oldLogits: ArrayLike<number>,
  labels: ArrayLike<number>,
  thresholds: ArrayLike<number>,
  oldClasses: number,
  seenClasses: number,
  imagePixels: number,
): PseudoLabelsReference => {
  const targets: number[] = [];
  const images = imagePixels === 0 ? 0 : labels.length / imagePixels;
  const confident = new Array<number>(images).fill(0);
  const background = new Array<number>(images).fill(0);
  for (let p = 0; p < labels.length; p++) {
    const y = labels[p];
    if (!(y >= 0 && y < oldClasses)) {
      targets.push(y);
      continue;
    }
    const n = Math.floor(p / imagePixels);
    const { entropy, argmax } = plopEntropyReference(oldLogits, p, oldClasses, seenClasses);
    const ok = entropy < thresholds[argmax];
    background[n]++;
    if (ok) confident[n]++;
    targets.push(ok ? argmax : 255);
  }
  const imageFactors = background.map((d, n) => (d === 0 ? 1 : confident[n] / d));
  const pixelWeights = labels.length === 0
    ? []
    : Array.from(labels, (_, p) => imageFactors[Math.floor(p / imagePixels)]);
  const adaptiveFactor = images === 0 ? 1 : imageFactors.reduce((a, b) => a + b, 0) / images;
  return { targets, imageFactors, pixelWeights, adaptiveFactor };
};

/** Central finite differences of a scalar function of `x` (float64). */
export const finiteDifferences = (
  f: (x: number[]) => number,
  x: readonly number[],
  h = 1e-5,
): number[] =>
  x.map((_, i) => {
    const plus = [...x];
    const minus = [...x];
    plus[i] += h;
    minus[i] -= h;
    return (f(plus) - f(minus)) / (2 * h);
  });

/** Gradient of {@link featureDistillationReference} with respect to `a`: 2 (a - b) / n. */
export const featureDistillationBackwardReference = (
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): number[] => Array.from(a, (x, i) => (2 * (x - b[i])) / a.length);

/**
 * Analytic gradient of {@link localPodLayerReference} with respect to the new
 * map: each image's distance gives (a - b) / (N ||a - b||) on its embedding
 * (0 where the two embeddings coincide), through the L2 normalisation when
 * asked (max(||e||, 1e-12) as there), then every strip entry hands its share
 * (1 / cols or 1 / rows) to the elements it averages, times 2 x under "pow".
 */
export const localPodLayerBackwardReference = (
  newX: ArrayLike<number>,
  oldX: ArrayLike<number>,
  shape: Nhwc,
  options: PodReferenceOptions = {},
): number[] => {
  const [n, h, w, c] = shape;
  const scales = options.scales ?? [1, 2, 4];
  const prepro = options.prepro ?? "pow";
  const rawA = localPodEmbeddingReference(newX, shape, scales, prepro);
  const rawB = localPodEmbeddingReference(oldX, shape, scales, prepro);
  const dx = new Array<number>(newX.length).fill(0);
  const regions = podRegions(h, w, scales);
  for (let b = 0; b < n; b++) {
    const a = options.normalize ? l2Normalized(rawA[b]) : rawA[b];
    const o = options.normalize ? l2Normalized(rawB[b]) : rawB[b];
    const dist = Math.sqrt(a.reduce((s, v, k) => s + (v - o[k]) ** 2, 0));
    let de = a.map((v, k) => (dist === 0 ? 0 : (v - o[k]) / (n * dist)));
    if (options.normalize) {
      const norm = Math.sqrt(rawA[b].reduce((s, v) => s + v * v, 0));
      if (norm > 1e-12) {
        const dot = a.reduce((s, v, k) => s + v * de[k], 0);
        de = de.map((g, k) => (g - a[k] * dot) / norm);
      } else de = de.map((g) => g / 1e-12);
    }
    const addTo = (y: number, xx: number, k: number, g: number) => {
      const i = ((b * h + y) * w + xx) * c + k;
      dx[i] += prepro === "pow" ? 2 * newX[i] * g : g;
    };
    let e = 0;
    for (const r of regions) {
      const rows = r.y1 - r.y0;
      const cols = r.x1 - r.x0;
      for (let k = 0; k < c; k++) {
        for (let y = r.y0; y < r.y1; y++, e++) {
          for (let xx = r.x0; xx < r.x1; xx++) addTo(y, xx, k, de[e] / cols);
        }
      }
      for (let k = 0; k < c; k++) {
        for (let xx = r.x0; xx < r.x1; xx++, e++) {
          for (let y = r.y0; y < r.y1; y++) addTo(y, xx, k, de[e] / rows);
        }
      }
    }
  }
  return dx;
};

/** Gradients of {@link localPodReference} with respect to each new layer (weight_l / L each). */
export const localPodBackwardReference = (
  newStages: readonly ArrayLike<number>[],
  oldStages: readonly ArrayLike<number>[],
  shapes: readonly Nhwc[],
  options: PodReferenceOptions & { readonly weights?: readonly number[] } = {},
): number[][] =>
  newStages.map((x, l) => {
    const weight = (options.weights ? options.weights[l] : 1) / newStages.length;
    return localPodLayerBackwardReference(x, oldStages[l], shapes[l], options).map((g) =>
      weight * g
    );
  });
