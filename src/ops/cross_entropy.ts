/**
 * Per-pixel cross-entropy over channels with ignore index 255 and optional
 * per-pixel weights: loss = sum_i w_i CE(z_i, y_i) / #valid (mean), the sum,
 * or the per-pixel map (none). The weight only scales a pixel's loss and
 * gradient and gets no gradient itself: this is how GSC re-weights the
 * backward pass.
 *
 * Labels outside [0, C) other than 255 are ignored AND counted: every call
 * returns a u32 `badLabels` counter, so a bad label set never trains silently
 * and never stalls the GPU queue with a readback.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import { BindingError, type GpuError } from "../gpu/errors.ts";
import { defineKernel, linearGrid } from "../gpu/kernel.ts";
import { empty, type Tensor } from "../tensor/tensor.ts";
import { channelView } from "./softmax.ts";
import { reduceLossRows, type Reduction, reductionCode, upstreamWgsl } from "./loss.ts";
import forwardSource from "../../shaders/loss/ce_forward.wgsl" with { type: "text" };
import backwardSource from "../../shaders/loss/ce_backward.wgsl" with { type: "text" };
import countSource from "../../shaders/loss/count_to_u32.wgsl" with { type: "text" };

const WG = 64;

/** The label that marks a pixel to ignore. */
export const IGNORE_LABEL = 255;

/** Per-pixel rows (w * CE, valid, bad). */
export const crossEntropyForwardKernel = defineKernel({
  name: "shaders/loss/ce_forward.wgsl",
  source: forwardSource,
  bindings: {
    logits: { access: "read", type: "f32" },
    labels: { access: "read", type: "i32" },
    weights: { access: "read", type: "f32" },
    rows: { access: "read_write", type: "f32" },
  },
  params: { pixels: "u32", channels: "u32" },
  constants: { HAS_WEIGHT: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ pixels }) => linearGrid(pixels, WG),
  minElements: ({ pixels, channels }, { HAS_WEIGHT }) => ({
    logits: pixels * channels,
    labels: pixels,
    weights: HAS_WEIGHT ? pixels : 0,
    rows: 3 * pixels,
  }),
});

/** dz = u w (softmax(z) - onehot(y)) on valid pixels. */
export const crossEntropyBackwardKernel = defineKernel({
  name: "shaders/loss/ce_backward.wgsl",
  source: upstreamWgsl + backwardSource,
  bindings: {
    logits: { access: "read", type: "f32" },
    labels: { access: "read", type: "i32" },
    weights: { access: "read", type: "f32" },
    grad: { access: "read", type: "f32" },
    totals: { access: "read", type: "f32" },
    dz: { access: "read_write", type: "f32" },
  },
  params: { pixels: "u32", channels: "u32", den_index: "u32" },
  constants: { HAS_WEIGHT: "u32", REDUCTION: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ pixels }) => linearGrid(pixels, WG),
  minElements: ({ pixels, channels, den_index }, { HAS_WEIGHT, REDUCTION }) => ({
    logits: pixels * channels,
    labels: pixels,
    weights: HAS_WEIGHT ? pixels : 0,
    grad: REDUCTION === 0 ? pixels : 1,
    totals: REDUCTION === 2 ? den_index + 1 : 0,
    dz: pixels * channels,
  }),
});

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

/** Options of the cross-entropy. */
export interface CrossEntropyOptions {
  /** Per-pixel weights [N, H, W] (f32); constant, they get no gradient. */
  readonly weights?: Tensor<"f32">;
  /** Default "mean" (over valid pixels; 0 when none is valid). */
  readonly reduction?: Reduction;
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

// Column of the valid count in the totals: the mean's denominator.
const VALID_COLUMN = 1;
const BAD_COLUMN = 2;

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
    const view = checkShapes(crossEntropyForwardKernel.name, logits, labels, options.weights);
    if (view instanceof BindingError) return yield* view;
    const { pixels, channels } = view;
    const gpu = yield* Gpu;
    const rows = yield* empty([pixels, 3], "f32");
    yield* gpu.recorder.dispatch(
      crossEntropyForwardKernel,
      { logits, labels, weights: options.weights ?? logits, rows },
      { pixels, channels },
      { HAS_WEIGHT: options.weights ? 1 : 0 },
    );
    const reduced = yield* reduceLossRows(
      rows,
      pixels,
      3,
      options.reduction ?? "mean",
      VALID_COLUMN,
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
    const view = checkShapes(crossEntropyBackwardKernel.name, logits, labels, options.weights);
    if (view instanceof BindingError) return yield* view;
    const { pixels, channels } = view;
    const gpu = yield* Gpu;
    const dz = yield* empty(logits.shape, "f32");
    yield* gpu.recorder.dispatch(
      crossEntropyBackwardKernel,
      { logits, labels, weights: options.weights ?? logits, grad, totals, dz },
      { pixels, channels, den_index: VALID_COLUMN },
      {
        HAS_WEIGHT: options.weights ? 1 : 0,
        REDUCTION: reductionCode(options.reduction ?? "mean"),
      },
    );
    return dz;
  });
