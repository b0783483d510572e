/**
 * PLOP's entropy pseudo labels (arthurdouillard/CVPR2021_PLOP train.py,
 * pseudo "entropy" with `find_median` and `classif_adaptive_factor`).
 *
 * Before a step, one pass of the old model over the step's training set
 * fills a histogram per old argmax class of the normalised entropy of the
 * pixels labelled 0 ({@link entropyHistogram}); {@link medianThresholds}
 * turns it into per-class thresholds on the host. During the step, a pixel
 * whose label is an old class (below `oldClasses`) takes the old argmax
 * class when its normalised entropy is below that class's threshold, and
 * 255 (ignored) otherwise; the cross-entropy of each image is scaled by
 * (confident background pixels) / (background pixels) of that image
 * ({@link plopPseudoLabels}).
 *
 * PLOP's normalised entropy, followed exactly: its `entropy()` is
 * -(1 / log(C_old + 1e-8)) * mean_c p_c log(p_c + 1e-8) (a mean over the
 * channels, not a sum), and `find_median` divides it by
 * max_value = log(|C_{0:t}|), the seen classes of the step. Pass
 * `seenClasses` to both calls (default: `oldClasses`, which changes the
 * binning and the meaning of the 0.001 floor).
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import { BindingError, type GpuError } from "../gpu/errors.ts";
import { defineKernel, linearGrid } from "../gpu/kernel.ts";
import { fillInto } from "./core.ts";
import { channelView, rowLseWgsl } from "./softmax.ts";
import { empty, type Tensor } from "../tensor/tensor.ts";
import entropySource from "../../shaders/pseudo_labels/entropy.wgsl" with { type: "text" };
import histogramSource from "../../shaders/pseudo_labels/entropy_histogram.wgsl" with {
  type: "text",
};
import pseudoSource from "../../shaders/pseudo_labels/pseudo_labels.wgsl" with { type: "text" };
import factorSource from "../../shaders/pseudo_labels/pseudo_factor.wgsl" with { type: "text" };

const WG = 64;

/** Adds the step's background pixels to the per-class entropy histogram. */
export const entropyHistogramKernel = defineKernel({
  name: "shaders/pseudo_labels/entropy_histogram.wgsl",
  source: rowLseWgsl("old_logits") + entropySource + histogramSource,
  bindings: {
    old_logits: { access: "read", type: "f32" },
    labels: { access: "read", type: "i32" },
    histogram: { access: "read_write", type: "u32", atomic: true },
  },
  params: { pixels: "u32", old_classes: "u32", inv_norm: "f32", bins: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ pixels }) => linearGrid(pixels, WG),
  minElements: (p) => ({
    old_logits: p.pixels * p.old_classes,
    labels: p.pixels,
    histogram: p.old_classes * p.bins,
  }),
});

/** Pseudo labels and per-image (background, confident) counts. */
export const pseudoLabelsKernel = defineKernel({
  name: "shaders/pseudo_labels/pseudo_labels.wgsl",
  source: rowLseWgsl("old_logits") + entropySource + pseudoSource,
  bindings: {
    old_logits: { access: "read", type: "f32" },
    labels: { access: "read", type: "i32" },
    thresholds: { access: "read", type: "f32" },
    targets: { access: "read_write", type: "i32" },
    counts: { access: "read_write", type: "u32", atomic: true },
  },
  params: { pixels: "u32", old_classes: "u32", inv_norm: "f32", image_pixels: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ pixels }) => linearGrid(pixels, WG),
  minElements: (p) => ({
    old_logits: p.pixels * p.old_classes,
    labels: p.pixels,
    thresholds: p.old_classes,
    targets: p.pixels,
    counts: 2 * Math.ceil(p.pixels / Math.max(1, p.image_pixels)),
  }),
});

/** Each pixel's image factor, and their mean. */
export const pseudoFactorKernel = defineKernel({
  name: "shaders/pseudo_labels/pseudo_factor.wgsl",
  source: factorSource,
  bindings: {
    counts: { access: "read", type: "u32" },
    weights: { access: "read_write", type: "f32" },
    mean: { access: "read_write", type: "f32" },
  },
  params: { pixels: "u32", image_pixels: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ pixels }) => linearGrid(pixels, WG),
  minElements: (p) => ({
    counts: 2 * Math.ceil(p.pixels / Math.max(1, p.image_pixels)),
    weights: p.pixels,
    mean: 1,
  }),
});

/** Options of the entropy-based pseudo labelling. */
export interface EntropyOptions {
  /** |C_{0:t}|, whose log normalises the entropy (PLOP's max_value). Default `oldClasses`. */
  readonly seenClasses?: number;
}

/** 1 / (log(C_old + 1e-8) * C_old * log(seen)), folded on the host in float64. */
export const entropyNormalizer = (oldClasses: number, seenClasses: number): number =>
  1 / (Math.log(oldClasses + 1e-8) * oldClasses * Math.log(seenClasses));

const setup = (
  kernel: string,
  oldLogits: Tensor<"f32">,
  labels: Tensor<"i32">,
  oldClasses: number,
  options: EntropyOptions,
) => {
  const fail = (binding: string, reason: string) => new BindingError({ kernel, binding, reason });
  const view = channelView(oldLogits.shape);
  if (view.channels !== oldClasses || labels.elements !== view.pixels) {
    return fail(
      "labels",
      `old logits [${oldLogits.shape.join(", ")}] and ${labels.elements} labels ` +
        `for ${oldClasses} old classes`,
    );
  }
  const seen = options.seenClasses ?? oldClasses;
  if (!(seen >= 2)) return fail("params.inv_norm", `${seen} seen classes (needs 2 or more)`);
  return { pixels: view.pixels, invNorm: entropyNormalizer(oldClasses, seen) };
};

/**
 * Adds one batch to PLOP's entropy histogram `histogram` [oldClasses, bins]
 * (u32, zeroed by the caller before the pass): each pixel labelled 0 counts
 * in bin min(trunc(entropy * bins), bins - 1) of its old argmax class.
 */
export const entropyHistogram = (
  oldLogits: Tensor<"f32">,
  labels: Tensor<"i32">,
  histogram: Tensor<"u32">,
  oldClasses: number,
  options: EntropyOptions = {},
): Effect.Effect<void, GpuError, Gpu> =>
  Effect.gen(function* () {
    const kernel = entropyHistogramKernel;
    const s = setup(kernel.name, oldLogits, labels, oldClasses, options);
    if (s instanceof BindingError) return yield* s;
    const bins = histogram.shape[histogram.shape.length - 1] ?? 0;
    if (histogram.elements !== oldClasses * bins || bins < 1) {
      return yield* new BindingError({
        kernel: kernel.name,
        binding: "histogram",
        reason: `histogram [${histogram.shape.join(", ")}] for ${oldClasses} classes`,
      });
    }
    const gpu = yield* Gpu;
    yield* gpu.recorder.dispatch(
      kernel,
      { old_logits: oldLogits, labels, histogram },
      { pixels: s.pixels, old_classes: oldClasses, inv_norm: s.invNorm, bins },
    );
  });

/** Options of {@link medianThresholds}. */
export interface MedianOptions {
  /** PLOP's `threshold` (0.001 for PLOP): every class threshold is at least this. */
  readonly floor?: number;
}

/**
 * Per-class thresholds from the histogram [oldClasses * bins] (host counts),
 * by PLOP's `find_median` rule followed to the letter, quirks included:
 * the walk over bins adds the bin INDEX (not its count) to the running sum,
 * the bin is int(i / bins * bins) in float64 (which can be i - 1), and
 * median = i / bins + (half - running) / count[bin] / bins. A class with no
 * pixel keeps 0; then the floor (PLOP: max(threshold, 0.001) in entropy
 * mode, a floor, not a cap). Where PLOP's division gives NaN (0 / 0) the
 * threshold is -1 (no pixel is ever confident, as NaN comparisons are
 * false); +-Infinity becomes +-f32 max so the GPU comparison stays finite.
 */
export const medianThresholds = (
  histogram: ArrayLike<number>,
  bins: number,
  oldClasses: number,
  options: MedianOptions = {},
): Float32Array => quantileThresholds(histogram, bins, oldClasses, 0.5, options.floor ?? 0.001);

/**
 * The walk of {@link medianThresholds} at any `portion` of a class's pixels
 * (half = total * portion; 0.5 is the median, bit for bit): FISS's quantile
 * schedule uses it. Same quirks, floor and NaN / infinity handling.
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
    // Python's max(t, floor) keeps t when it is NaN (floor > NaN is false).
    const floored = Number.isNaN(value) ? value : Math.max(value, floor);
    out[c] = Number.isNaN(floored) ? -1 : Math.max(-3.4e38, Math.min(3.4e38, floored));
  }
  return out;
};

/** Result of {@link plopPseudoLabels}. */
export interface PseudoLabels {
  /** i32 [N, H, W]: the step's training targets. */
  readonly targets: Tensor<"i32">;
  /** f32 [1]: the mean over images of the per-image classification adaptive factor. */
  readonly adaptiveFactor: Tensor<"f32">;
  /**
   * f32 [N, H, W]: each pixel's image factor. PLOP multiplies each image's
   * per-pixel CE by its own factor; as cross-entropy weights these are exact
   * for any batch size, where the [1] mean is exact for one image a batch.
   */
  readonly weights: Tensor<"f32">;
}

/**
 * PLOP's pseudo labels for one batch, from the old logits [N, H, W, old],
 * the step's labels [N, H, W] and the thresholds [old]. The adaptive factor
 * of an image without background pixels is 1 (PLOP divides 0 by 0 there).
 */
export const plopPseudoLabels = (
  oldLogits: Tensor<"f32">,
  labels: Tensor<"i32">,
  thresholds: Tensor<"f32">,
  oldClasses: number,
  options: EntropyOptions = {},
): Effect.Effect<PseudoLabels, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const kernel = pseudoLabelsKernel;
    const s = setup(kernel.name, oldLogits, labels, oldClasses, options);
    if (s instanceof BindingError) return yield* s;
    if (thresholds.elements !== oldClasses || labels.shape.length !== 3) {
      return yield* new BindingError({
        kernel: kernel.name,
        binding: "thresholds",
        reason: `${thresholds.elements} thresholds, labels [${labels.shape.join(", ")}]`,
      });
    }
    const gpu = yield* Gpu;
    const images = labels.shape[0];
    const imagePixels = labels.shape[1] * labels.shape[2];
    const targets = yield* empty(labels.shape, "i32");
    const counts = yield* empty([Math.max(1, images), 2], "u32");
    const weights = yield* empty(labels.shape, "f32");
    const adaptiveFactor = yield* empty([1], "f32");
    yield* fillInto(counts, 0);
    yield* fillInto(adaptiveFactor, 1);
    if (s.pixels > 0) {
      yield* gpu.recorder.dispatch(
        kernel,
        { old_logits: oldLogits, labels, thresholds, targets, counts },
        {
          pixels: s.pixels,
          old_classes: oldClasses,
          inv_norm: s.invNorm,
          image_pixels: imagePixels,
        },
      );
      yield* gpu.recorder.dispatch(
        pseudoFactorKernel,
        { counts, weights, mean: adaptiveFactor },
        { pixels: s.pixels, image_pixels: imagePixels },
      );
    }
    return { targets, adaptiveFactor, weights };
  });
