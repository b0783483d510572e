/**
 * Per-pixel cross-entropy over channels with ignore index 255 and optional
 * per-pixel weights: loss = sum_i w_i CE(z_i, y_i) / #valid (mean; / #pixels
 * with `meanOver: "all"`, as PLOP's train.py reduces its per-pixel loss map
 * with `loss.mean()`), the sum, or the per-pixel map (none). The weight only
 * scales a pixel's loss and gradient and gets no gradient itself: this is how GSC re-weights the
 * backward pass.
 *
 * Labels outside [0, C) other than 255 are ignored AND counted: every call
 * returns a u32 `badLabels` counter, so a bad label set never trains silently
 * and never stalls the GPU queue with a readback.
 *
 * The unbiased mode is MiB's unbiased cross-entropy (fcdl94/MiB
 * utils/loss.py, UnbiasedCrossEntropy): at step t the background of the new
 * data also covers the old classes, so a pixel labelled background (any
 * label below `oldClasses`, which MiB maps to 0) is scored by the merged
 * probability p(0) + sum_{old c} p(c), i.e. lse(z_0..z_{old-1}) - lse(z).
 * Labels of the new classes score as in plain cross-entropy; 255 (and any
 * label outside [0, C)) is ignored, not counted. Its mean divides by the
 * valid pixels (`meanOver: "valid"`, like plain CE, so oldClasses = 1 is
 * plain CE) or, as MiB's train.py does with reduction 'none' and
 * `loss.mean()`, by every pixel (`meanOver: "all"`).
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import { BindingError, type GpuError } from "../gpu/errors.ts";
import { defineKernel, linearGrid, type ReadVia, viaSuffix } from "../gpu/kernel.ts";
import { empty, type Tensor } from "../tensor/tensor.ts";
import { channelView, rowLseWgsl } from "./softmax.ts";
import { readThroughTexturesWithoutAvx512 } from "./texture_reads.ts";
import { reduceLossRows, type Reduction, reductionCode, upstreamWgsl } from "./loss.ts";
import forwardSource from "../../shaders/loss/ce_forward.wgsl" with { type: "text" };
import backwardSource from "../../shaders/loss/ce_backward.wgsl" with { type: "text" };
import countSource from "../../shaders/loss/count_to_u32.wgsl" with { type: "text" };
import pixelSource from "../../shaders/loss/ce_pixel.wgsl" with { type: "text" };
import forwardPixelSource from "../../shaders/loss/ce_forward_pixel.wgsl" with { type: "text" };
import rowQuadsSource from "../../shaders/loss/ce_row_quads.wgsl" with { type: "text" };
import forwardQuadsSource from "../../shaders/loss/ce_forward_quads.wgsl" with { type: "text" };
import backwardQuadsSource from "../../shaders/loss/ce_backward_quads.wgsl" with { type: "text" };
import unbiasedForwardSource from "../../shaders/loss/unbiased_ce_forward.wgsl" with {
  type: "text",
};
import unbiasedBackwardSource from "../../shaders/loss/unbiased_ce_backward.wgsl" with {
  type: "text",
};

const WG = 64;

/** The label that marks a pixel to ignore. */
export const IGNORE_LABEL = 255;

/** The bindings both forward kernels (plain and unbiased) read and write. */
const forwardBindings = (via: ReadVia, logits: "f32" | "vec4f" = "f32") => ({
  logits: { access: "read", type: logits, via },
  labels: { access: "read", type: "i32" },
  weights: { access: "read", type: "f32" },
  rows: { access: "read_write", type: "f32" },
} as const);

/** The bindings both backward kernels read and write. */
const backwardBindings = (via: ReadVia, logits: "f32" | "vec4f" = "f32") => ({
  logits: { access: "read", type: logits, via },
  labels: { access: "read", type: "i32" },
  weights: { access: "read", type: "f32" },
  grad: { access: "read", type: "f32" },
  totals: { access: "read", type: "f32" },
  dz: { access: "read_write", type: "f32" },
} as const);

/** Sizes of the inputs every cross-entropy kernel reads. */
const inputSizes = (pixels: number, channels: number, weighted: number) => ({
  logits: pixels * channels,
  labels: pixels,
  weights: weighted ? pixels : 0,
});

/**
 * The plain forward reading `logits` as `via` says: one f32 at a time, or
 * (`quads`, C % 4 == 0) a channel quad at a time with the same sums in
 * channel order (ce_row_quads.wgsl), bit for bit.
 */
const crossEntropyForwardKernelVia = (via: ReadVia, quads = false) =>
  defineKernel({
    name: `shaders/loss/ce_forward${quads ? "_quads" : ""}.wgsl${viaSuffix(via)}`,
    source: (quads ? rowQuadsSource + forwardQuadsSource : rowLseWgsl("logits", "load") +
      forwardSource) + forwardPixelSource,
    bindings: forwardBindings(via, quads ? "vec4f" : "f32"),
    params: { pixels: "u32", channels: "u32" },
    constants: { HAS_WEIGHT: "u32" },
    workgroupSize: [WG, 1, 1],
    dispatch: ({ pixels }) => linearGrid(pixels, WG),
    minElements: ({ pixels, channels }, { HAS_WEIGHT }) => ({
      ...inputSizes(pixels, channels, HAS_WEIGHT),
      rows: 3 * pixels,
    }),
  });

/** Per-pixel rows (w * CE, valid, bad), by the way the logits are read. */
export const crossEntropyForwardKernels = {
  buffer: crossEntropyForwardKernelVia("buffer"),
  texture: crossEntropyForwardKernelVia("texture"),
};

/** The plain backward reading `logits` as `via` says, per channel or (`quads`) per quad. */
const crossEntropyBackwardKernelVia = (via: ReadVia, quads = false) =>
  defineKernel({
    name: `shaders/loss/ce_backward${quads ? "_quads" : ""}.wgsl${viaSuffix(via)}`,
    source: upstreamWgsl +
      (quads ? rowQuadsSource + backwardQuadsSource : rowLseWgsl("logits", "load") +
        backwardSource) +
      pixelSource,
    bindings: backwardBindings(via, quads ? "vec4f" : "f32"),
    params: { pixels: "u32", channels: "u32", den_index: "u32" },
    constants: { HAS_WEIGHT: "u32", REDUCTION: "u32" },
    workgroupSize: [WG, 1, 1],
    dispatch: ({ pixels }) => linearGrid(pixels, WG),
    minElements: ({ pixels, channels, den_index }, { HAS_WEIGHT, REDUCTION }) => ({
      ...inputSizes(pixels, channels, HAS_WEIGHT),
      grad: REDUCTION === 0 ? pixels : 1,
      totals: REDUCTION === 2 ? den_index + 1 : 0,
      dz: pixels * channels,
    }),
  });

/** dz = u w (softmax(z) - onehot(y)) on valid pixels, by the way the logits are read. */
export const crossEntropyBackwardKernels = {
  buffer: crossEntropyBackwardKernelVia("buffer"),
  texture: crossEntropyBackwardKernelVia("texture"),
};

/**
 * Per-pixel rows over channel quads, bit for bit {@link crossEntropyForwardKernels}'
 * with a quarter of the logits' loads (each a loop over the SIMD lanes on
 * llvmpipe, or a texel fetch).
 */
export const crossEntropyForwardQuadsKernels = {
  buffer: crossEntropyForwardKernelVia("buffer", true),
  texture: crossEntropyForwardKernelVia("texture", true),
};

/** dz over channel quads, bit for bit {@link crossEntropyBackwardKernels}'. */
export const crossEntropyBackwardQuadsKernels = {
  buffer: crossEntropyBackwardKernelVia("buffer", true),
  texture: crossEntropyBackwardKernelVia("texture", true),
};

let channelQuads = true;

/**
 * Turns the channel-quad kernels of the plain cross-entropy on or off (C % 4
 * == 0 takes them by default) and returns the previous setting: tests
 * compare them with the per-channel ones with it.
 */
export const setCrossEntropyQuads = (on: boolean): boolean => {
  const previous = channelQuads;
  channelQuads = on;
  return previous;
};

/**
 * How `logits` is read on this adapter. The per-channel kernels read it one
 * f32 at a time, so through a texture copy only where scalar texture reads
 * pay ({@link readThroughTexturesWithoutAvx512}: llvmpipe without AVX-512
 * code). The quad kernels follow the same rule: forward and backward at
 * 8x64x64x16 took 3.25 ms from buffers against 4.42 through textures with
 * AVX-512 code and 4.91 through textures against 13.0 from buffers with AVX2
 * code, the per-channel kernels 4.15 and 8.16 (2026-12-02, 2-core AMD EPYC,
 * interleaved in one run, medians of 13 rounds).
 */
const logitsVia = (isFallback: boolean, logits: Tensor<"f32">): ReadVia =>
  readThroughTexturesWithoutAvx512(isFallback, logits) ? "texture" : "buffer";

/** Copies an integer-valued total into a u32 [1] tensor. */
export const countToU32Kernel = defineKernel({
  name: "shaders/loss/count_to_u32.wgsl",
  source: countSource,
  bindings: {
    totals: { access: "read", type: "f32" },
    out: { access: "read_write", type: "u32" },
  },
  params: { index: "u32" },
  workgroupSize: [1, 1, 1],
  dispatch: () => [1, 1, 1],
  minElements: ({ index }) => ({ totals: index + 1, out: 1 }),
});

/** The mean's denominator: the valid pixels, or every pixel (ignored ones included). */
export type MeanOver = "valid" | "all";

/** Options of the cross-entropy. */
export interface CrossEntropyOptions {
  /** Per-pixel weights [N, H, W] (f32); constant, they get no gradient. */
  readonly weights?: Tensor<"f32">;
  /** Default "mean" (over valid pixels; 0 when none is valid). */
  readonly reduction?: Reduction;
  /**
   * The mean's denominator: "valid" (default) the valid pixels, "all" every
   * pixel, ignored ones included (PLOP's `loss.mean()` of its per-pixel map).
   */
  readonly meanOver?: MeanOver;
}

/** Result of {@link crossEntropy}. */
export interface CrossEntropyResult {
  /** [1] for sum and mean; the per-pixel map [N, H, W] (0 where ignored) for none. */
  readonly loss: Tensor<"f32">;
  /** [1] u32: pixels whose label is neither in [0, C) nor 255. */
  readonly badLabels: Tensor<"u32">;
  /** [4] f32: loss sum, valid pixels, bad labels, pixels (read by the backward). */
  readonly totals: Tensor<"f32">;
}

// Columns of the totals: valid count, bad labels, then the pixel count; the mean divides by the
// valid count or (meanOver "all") by the pixel count.
const VALID_COLUMN = 1;
const BAD_COLUMN = 2;
const PIXELS_COLUMN = 3;
const denColumn = (options: CrossEntropyOptions) =>
  options.meanOver === "all" ? PIXELS_COLUMN : VALID_COLUMN;

const checkShapes = (
  kernel: string,
  logits: Tensor<"f32">,
  labels: Tensor<"i32">,
  weights: Tensor<"f32"> | undefined,
): BindingError | { pixels: number; channels: number } => {
  const view = channelView(logits.shape);
  if (view.channels === 0 || labels.elements !== view.pixels) {
    return new BindingError({
      kernel,
      binding: "labels",
      reason: `${labels.elements} labels for logits [${logits.shape.join(", ")}]`,
    });
  }
  if (weights && weights.elements !== view.pixels) {
    return new BindingError({
      kernel,
      binding: "weights",
      reason: `${weights.elements} weights for ${view.pixels} pixels`,
    });
  }
  return view;
};

/**
 * Cross-entropy of `logits` [N, H, W, C] against `labels` [N, H, W]
 * (see the module doc for ignore and bad labels).
 */
export const crossEntropy = (
  logits: Tensor<"f32">,
  labels: Tensor<"i32">,
  options: CrossEntropyOptions = {},
): Effect.Effect<CrossEntropyResult, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const view = checkShapes(
      crossEntropyForwardKernels.buffer.name,
      logits,
      labels,
      options.weights,
    );
    if (view instanceof BindingError) return yield* view;
    const { pixels, channels } = view;
    const gpu = yield* Gpu;
    const rows = yield* empty([pixels, 3], "f32");
    const bindings = { logits, labels, weights: options.weights ?? logits, rows };
    const constants = { HAS_WEIGHT: options.weights ? 1 : 0 };
    const kernels = channelQuads && channels % 4 === 0
      ? crossEntropyForwardQuadsKernels
      : crossEntropyForwardKernels;
    const kernel = kernels[logitsVia(gpu.adapter.isFallback, logits)];
    yield* gpu.recorder.dispatch(kernel, bindings, { pixels, channels }, constants);
    const reduced = yield* reduceLossRows(
      rows,
      pixels,
      3,
      options.reduction ?? "mean",
      denColumn(options),
      labels.shape,
    );
    const badLabels = yield* empty([1], "u32");
    yield* gpu.recorder.dispatch(
      countToU32Kernel,
      { totals: reduced.totals, out: badLabels },
      { index: BAD_COLUMN },
    );
    return { loss: reduced.value, badLabels, totals: reduced.totals };
  });

/**
 * Gradient of {@link crossEntropy} with respect to the logits, from the
 * output gradient `grad` ([1], or [N, H, W] for none) and the forward's totals.
 */
export const crossEntropyBackward = (
  logits: Tensor<"f32">,
  labels: Tensor<"i32">,
  grad: Tensor<"f32">,
  totals: Tensor<"f32">,
  options: CrossEntropyOptions = {},
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const view = checkShapes(
      crossEntropyBackwardKernels.buffer.name,
      logits,
      labels,
      options.weights,
    );
    if (view instanceof BindingError) return yield* view;
    const { pixels, channels } = view;
    const gpu = yield* Gpu;
    const dz = yield* empty(logits.shape, "f32");
    const bindings = { logits, labels, weights: options.weights ?? logits, grad, totals, dz };
    const params = { pixels, channels, den_index: denColumn(options) };
    const constants = {
      HAS_WEIGHT: options.weights ? 1 : 0,
      REDUCTION: reductionCode(options.reduction ?? "mean"),
    };
    const kernels = channelQuads && channels % 4 === 0
      ? crossEntropyBackwardQuadsKernels
      : crossEntropyBackwardKernels;
    const kernel = kernels[logitsVia(gpu.adapter.isFallback, logits)];
    yield* gpu.recorder.dispatch(kernel, bindings, params, constants);
    return dz;
  });

const unbiasedParams = {
  pixels: "u32",
  channels: "u32",
  old_classes: "u32",
  den_index: "u32",
} as const;

const unbiasedCeForwardKernelVia = (via: ReadVia) =>
  defineKernel({
    name: `shaders/loss/unbiased_ce_forward.wgsl${viaSuffix(via)}`,
    source: rowLseWgsl("logits", "load") + unbiasedForwardSource + forwardPixelSource,
    bindings: forwardBindings(via),
    params: unbiasedParams,
    constants: { HAS_WEIGHT: "u32" },
    workgroupSize: [WG, 1, 1],
    dispatch: ({ pixels }) => linearGrid(pixels, WG),
    minElements: ({ pixels, channels }, { HAS_WEIGHT }) => ({
      ...inputSizes(pixels, channels, HAS_WEIGHT),
      rows: 2 * pixels,
    }),
  });

/** Per-pixel rows (w * loss, valid) of the unbiased cross-entropy, by the way the logits are read. */
export const unbiasedCeForwardKernels = {
  buffer: unbiasedCeForwardKernelVia("buffer"),
  texture: unbiasedCeForwardKernelVia("texture"),
};

const unbiasedCeBackwardKernelVia = (via: ReadVia) =>
  defineKernel({
    name: `shaders/loss/unbiased_ce_backward.wgsl${viaSuffix(via)}`,
    source: upstreamWgsl + rowLseWgsl("logits", "load") + unbiasedBackwardSource + pixelSource,
    bindings: backwardBindings(via),
    params: unbiasedParams,
    constants: { HAS_WEIGHT: "u32", REDUCTION: "u32" },
    workgroupSize: [WG, 1, 1],
    dispatch: ({ pixels }) => linearGrid(pixels, WG),
    minElements: ({ pixels, channels, den_index }, { HAS_WEIGHT }) => ({
      ...inputSizes(pixels, channels, HAS_WEIGHT),
      grad: 1,
      totals: den_index + 1,
      dz: pixels * channels,
    }),
  });

/** Gradient of the unbiased cross-entropy with respect to the logits, by the way they are read. */
export const unbiasedCeBackwardKernels = {
  buffer: unbiasedCeBackwardKernelVia("buffer"),
  texture: unbiasedCeBackwardKernelVia("texture"),
};

/** Options of the unbiased mode ({@link unbiasedCrossEntropy}). */
export interface UnbiasedCrossEntropyOptions {
  /** Per-pixel weights [N, H, W]: scale each pixel's loss and gradient (no gradient). */
  readonly weights?: Tensor<"f32">;
  /** "valid" (default): divide by the valid pixels; "all": by every pixel, as MiB's train.py does. */
  readonly meanOver?: MeanOver;
}

/** Checks the shapes of the unbiased mode; returns the [pixels, channels] view. */
export const checkLogits = (
  kernel: string,
  logits: Tensor<"f32">,
  labels: Tensor<"i32">,
  oldClasses: number,
  weights?: Tensor<"f32">,
): BindingError | { pixels: number; channels: number } => {
  const view = channelView(logits.shape);
  const fail = (binding: string, reason: string) => new BindingError({ kernel, binding, reason });
  if (view.channels === 0 || labels.elements !== view.pixels) {
    return fail("labels", `${labels.elements} labels for logits [${logits.shape.join(", ")}]`);
  }
  if (!Number.isInteger(oldClasses) || oldClasses < 1 || oldClasses > view.channels) {
    return fail("params.old_classes", `${oldClasses} old classes of ${view.channels} channels`);
  }
  if (weights && weights.elements !== view.pixels) {
    return fail("weights", `${weights.elements} weights for ${view.pixels} pixels`);
  }
  return view;
};

/** Result of {@link unbiasedCrossEntropy}. */
export interface UnbiasedCrossEntropyResult {
  /** [1]: the mean loss. */
  readonly loss: Tensor<"f32">;
  /** Column totals (loss sum, valid, pixels) read by the backward. */
  readonly totals: Tensor<"f32">;
}

// Totals are (loss sum, valid, pixels): the mean's denominator is column 1 or 2.
const unbiasedDenIndex = (options: UnbiasedCrossEntropyOptions) =>
  options.meanOver === "all" ? 2 : 1;

/**
 * The unbiased mode of the cross-entropy: `logits` [N, H, W, C] against
 * `labels` [N, H, W] with `oldClasses` = |C_{0:t-1}| (background included).
 */
export const unbiasedCrossEntropy = (
  logits: Tensor<"f32">,
  labels: Tensor<"i32">,
  oldClasses: number,
  options: UnbiasedCrossEntropyOptions = {},
): Effect.Effect<UnbiasedCrossEntropyResult, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const kernel = unbiasedCeForwardKernels.buffer.name;
    const view = checkLogits(kernel, logits, labels, oldClasses, options.weights);
    if (view instanceof BindingError) return yield* view;
    const { pixels, channels } = view;
    const gpu = yield* Gpu;
    const denIndex = unbiasedDenIndex(options);
    const p = { pixels, channels, old_classes: oldClasses, den_index: denIndex };
    const rows = yield* empty([pixels, 2], "f32");
    yield* gpu.recorder.dispatch(
      unbiasedCeForwardKernels[logitsVia(gpu.adapter.isFallback, logits)],
      { logits, labels, weights: options.weights ?? logits, rows },
      p,
      { HAS_WEIGHT: options.weights ? 1 : 0 },
    );
    const reduced = yield* reduceLossRows(rows, pixels, 2, "mean", denIndex, [1]);
    return { loss: reduced.value, totals: reduced.totals };
  });

/** Gradient of {@link unbiasedCrossEntropy} from the output gradient [1] and the forward's totals. */
export const unbiasedCrossEntropyBackward = (
  logits: Tensor<"f32">,
  labels: Tensor<"i32">,
  oldClasses: number,
  grad: Tensor<"f32">,
  totals: Tensor<"f32">,
  options: UnbiasedCrossEntropyOptions = {},
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const { pixels, channels } = channelView(logits.shape);
    const gpu = yield* Gpu;
    const p = {
      pixels,
      channels,
      old_classes: oldClasses,
      den_index: unbiasedDenIndex(options),
    };
    const dz = yield* empty(logits.shape, "f32");
    yield* gpu.recorder.dispatch(
      unbiasedCeBackwardKernels[logitsVia(gpu.adapter.isFallback, logits)],
      { logits, labels, weights: options.weights ?? logits, grad, totals, dz },
      p,
      { HAS_WEIGHT: options.weights ? 1 : 0, REDUCTION: reductionCode("mean") },
    );
    return dz;
  });
