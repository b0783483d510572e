/**
 * MiB's unbiased cross-entropy (fcdl94/MiB utils/loss.py,
 * UnbiasedCrossEntropy): at step t the background of the new data also
 * covers the old classes, so a pixel labelled background (any label below
 * `oldClasses`, which MiB maps to 0) is scored by the merged probability
 * p(0) + sum_{old c} p(c), i.e. lse(z_0..z_{old-1}) - lse(z). Labels of the
 * new classes score as in plain cross-entropy; 255 (and any label outside
 * [0, C)) is ignored.
 *
 * Normalisation: the class itself ends in `F.nll_loss`, whose default
 * reduction 'mean' divides by the non-ignored pixels; the default here
 * (`meanOver: "valid"`) does the same, like this project's `crossEntropy`,
 * so methods share one convention and oldClasses = 1 is exactly plain CE.
 * MiB's trainer (train.py) instead builds the criterion with reduction
 * 'none' and takes `loss.mean()` over all B*H*W pixels, ignored ones
 * counting 0: `meanOver: "all"` reproduces that trainer's scale, which
 * shrinks the loss by the share of ignored pixels.
 *
 * @module
 */
import { Effect } from "effect";
import { Gpu } from "../../gpu/device.ts";
import { BindingError } from "../../gpu/errors.ts";
import { defineKernel, linearGrid } from "../../gpu/kernel.ts";
import { type GpuScoped, type Node, record } from "../../autograd/tape.ts";
import { reduceLossRows, reductionCode, upstreamWgsl } from "../../ops/loss.ts";
import { channelView } from "../../ops/softmax.ts";
import { empty, type Tensor } from "../../tensor/tensor.ts";
import commonSource from "../../../shaders/incremental/common.wgsl" with { type: "text" };
import forwardSource from "../../../shaders/incremental/unbiased_ce_forward.wgsl" with {
  type: "text",
};
import backwardSource from "../../../shaders/incremental/unbiased_ce_backward.wgsl" with {
  type: "text",
};

const WG = 64;

const params = { pixels: "u32", channels: "u32", old_classes: "u32", den_index: "u32" } as const;

/** Per-pixel rows (w * loss, valid) of the unbiased cross-entropy. */
export const unbiasedCeForwardKernel = defineKernel({
  name: "shaders/incremental/unbiased_ce_forward.wgsl",
  source: commonSource + forwardSource,
  bindings: {
    logits: { access: "read", type: "f32" },
    labels: { access: "read", type: "i32" },
    weights: { access: "read", type: "f32" },
    rows: { access: "read_write", type: "f32" },
  },
  params,
  constants: { HAS_WEIGHT: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ pixels }) => linearGrid(pixels, WG),
  minElements: ({ pixels, channels }, { HAS_WEIGHT }) => ({
    logits: pixels * channels,
    labels: pixels,
    weights: HAS_WEIGHT ? pixels : 0,
    rows: 2 * pixels,
  }),
});

/** Gradient of the unbiased cross-entropy with respect to the logits. */
export const unbiasedCeBackwardKernel = defineKernel({
  name: "shaders/incremental/unbiased_ce_backward.wgsl",
  source: upstreamWgsl + commonSource + backwardSource,
  bindings: {
    logits: { access: "read", type: "f32" },
    labels: { access: "read", type: "i32" },
    weights: { access: "read", type: "f32" },
    grad: { access: "read", type: "f32" },
    totals: { access: "read", type: "f32" },
    dz: { access: "read_write", type: "f32" },
  },
  params,
  constants: { HAS_WEIGHT: "u32", REDUCTION: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ pixels }) => linearGrid(pixels, WG),
  minElements: ({ pixels, channels, den_index }, { HAS_WEIGHT }) => ({
    logits: pixels * channels,
    labels: pixels,
    weights: HAS_WEIGHT ? pixels : 0,
    grad: 1,
    totals: den_index + 1,
    dz: pixels * channels,
  }),
});

/** Options of {@link unbiasedCrossEntropy}. */
export interface UnbiasedCrossEntropyOptions {
  /** Per-pixel weights [N, H, W]: scale each pixel's loss and gradient (no gradient). */
  readonly weights?: Tensor<"f32">;
  /** "valid" (default): divide by the valid pixels; "all": by every pixel, as MiB's train.py does. */
  readonly meanOver?: "valid" | "all";
}

/** Checks the shapes; returns the [pixels, channels] view. */
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

/**
 * MiB's unbiased cross-entropy of `logits` [N, H, W, C] against `labels`
 * [N, H, W] with `oldClasses` = |C_{0:t-1}| (background included); a [1] node.
 */
export const unbiasedCrossEntropy = (
  logits: Node,
  labels: Tensor<"i32">,
  oldClasses: number,
  options: UnbiasedCrossEntropyOptions = {},
): GpuScoped<Node> =>
  Effect.gen(function* () {
    const kernel = unbiasedCeForwardKernel.name;
    const view = checkLogits(kernel, logits.value, labels, oldClasses, options.weights);
    if (view instanceof BindingError) return yield* view;
    const { pixels, channels } = view;
    const gpu = yield* Gpu;
    // Totals are (loss sum, valid, pixels): the mean's denominator is column 1 or 2.
    const denIndex = options.meanOver === "all" ? 2 : 1;
    const p = { pixels, channels, old_classes: oldClasses, den_index: denIndex };
    const hasWeight = options.weights ? 1 : 0;
    const rows = yield* empty([pixels, 2], "f32");
    yield* gpu.recorder.dispatch(
      unbiasedCeForwardKernel,
      { logits: logits.value, labels, weights: options.weights ?? logits.value, rows },
      p,
      { HAS_WEIGHT: hasWeight },
    );
    const reduced = yield* reduceLossRows(rows, pixels, 2, "mean", denIndex, [1]);
    return record(reduced.value, [logits], (grad) =>
      Effect.gen(function* () {
        const dz = yield* empty(logits.value.shape, "f32");
        yield* gpu.recorder.dispatch(
          unbiasedCeBackwardKernel,
          {
            logits: logits.value,
            labels,
            weights: options.weights ?? logits.value,
            grad,
            totals: reduced.totals,
            dz,
          },
          p,
          { HAS_WEIGHT: hasWeight, REDUCTION: reductionCode("mean") },
        );
        return [dz];
      }), "unbiasedCrossEntropy");
  });
