/**
 * Float64 references for PLOP's parts: local POD (regions, embeddings, the
 * per-layer distance and its gradient), the logits collapse, the entropy,
 * its histogram and the pseudo labels; and central finite differences.
 * Feature maps are NHWC with their shape given; logits are [pixels,
 * channels] row-major.
 *
 * @module
 */
import { softmaxRow } from "./incremental.ts";

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
 * PLOP's "extra_channels" for the logits layer: the new model's channels
 * collapse to the old count, channel 0 = z_0 + sum of the new classes'
 * logits (`sum`) or z_0 (`trim`), channels 1..old-1 unchanged.
 */
export const collapseNewLogitsReference = (
  z: ArrayLike<number>,
  channels: number,
  oldClasses: number,
  mode: "sum" | "trim" = "sum",
): number[] => {
  const pixels = z.length / channels;
  const out: number[] = [];
  for (let p = 0; p < pixels; p++) {
    const base = p * channels;
    let bg = z[base];
    if (mode === "sum") { for (let k = oldClasses; k < channels; k++) bg += z[base + k]; }
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

/** Gradient of `featureDistillationReference` (incremental.ts) with respect to `a`: 2 (a - b) / n. */
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
