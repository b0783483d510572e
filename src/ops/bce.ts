/**
 * Binary cross-entropy with logits, per element over the channels of an NHWC
 * tensor: max(x, 0) - x y + log(1 + e^-|x|), reduced by mean over all
 * elements (default), sum, or kept per element (none). Targets are constants.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import { BindingError, type GpuError } from "../gpu/errors.ts";
import { defineKernel, linearGrid } from "../gpu/kernel.ts";
import { empty, type Tensor } from "../tensor/tensor.ts";
import { reduceLossRows, type Reduction, reductionCode, upstreamWgsl } from "./loss.ts";
import forwardSource from "../../shaders/loss/bce_forward.wgsl" with { type: "text" };
import backwardSource from "../../shaders/loss/bce_backward.wgsl" with { type: "text" };

const WG = 256;

/** Per-element BCE with logits. */
export const bceForwardKernel = defineKernel({
  name: "shaders/loss/bce_forward.wgsl",
  source: forwardSource,
  bindings: {
    logits: { access: "read", type: "f32" },
    targets: { access: "read", type: "f32" },
    out: { access: "read_write", type: "f32" },
  },
  params: { n: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ n }) => linearGrid(n, WG),
  minElements: ({ n }) => ({ logits: n, targets: n, out: n }),
});

/** dx = u (sigmoid(x) - y). */
export const bceBackwardKernel = defineKernel({
  name: "shaders/loss/bce_backward.wgsl",
  source: upstreamWgsl + backwardSource,
  bindings: {
    logits: { access: "read", type: "f32" },
    targets: { access: "read", type: "f32" },
    grad: { access: "read", type: "f32" },
    totals: { access: "read", type: "f32" },
    dx: { access: "read_write", type: "f32" },
  },
  params: { n: "u32", den_index: "u32" },
  constants: { REDUCTION: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ n }) => linearGrid(n, WG),
  minElements: ({ n, den_index }, { REDUCTION }) => ({
    logits: n,
    targets: n,
    grad: REDUCTION === 0 ? n : 1,
    totals: REDUCTION === 2 ? den_index + 1 : 0,
    dx: n,
  }),
});

/** Result of {@link bceWithLogits}. */
export interface BceResult {
  /** [1] for sum and mean; per element (the logits' shape) for none. */
  readonly loss: Tensor<"f32">;
  /** [2] f32: the loss sum, the element count. */
  readonly totals: Tensor<"f32">;
}

// Column of the element count in the totals (the count of rows of a 1-column view).
const COUNT_COLUMN = 1;

const checkShapes = (kernel: string, logits: Tensor<"f32">, targets: Tensor<"f32">) =>
  logits.elements === targets.elements && logits.elements > 0 ? undefined : new BindingError({
    kernel,
    binding: "targets",
    reason: `targets [${targets.shape.join(", ")}] for logits [${logits.shape.join(", ")}]`,
  });

/** BCE with logits of `logits` against `targets` in [0, 1] (same shape). */
export const bceWithLogits = (
  logits: Tensor<"f32">,
  targets: Tensor<"f32">,
  reduction: Reduction = "mean",
): Effect.Effect<BceResult, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const bad = checkShapes(bceForwardKernel.name, logits, targets);
    if (bad) return yield* bad;
    const gpu = yield* Gpu;
    const n = logits.elements;
    const out = yield* empty([n, 1], "f32");
    yield* gpu.recorder.dispatch(bceForwardKernel, { logits, targets, out }, { n });
    const reduced = yield* reduceLossRows(out, n, 1, reduction, COUNT_COLUMN, logits.shape);
    return { loss: reduced.value, totals: reduced.totals };
  });

/** Gradient of {@link bceWithLogits} with respect to the logits. */
export const bceWithLogitsBackward = (
  logits: Tensor<"f32">,
  targets: Tensor<"f32">,
  grad: Tensor<"f32">,
  totals: Tensor<"f32">,
  reduction: Reduction = "mean",
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const bad = checkShapes(bceBackwardKernel.name, logits, targets);
    if (bad) return yield* bad;
    const gpu = yield* Gpu;
    const dx = yield* empty(logits.shape, "f32");
    yield* gpu.recorder.dispatch(
      bceBackwardKernel,
      { logits, targets, grad, totals, dx },
      { n: logits.elements, den_index: COUNT_COLUMN },
      { REDUCTION: reductionCode(reduction) },
    );
    return dx;
  });
