/**
 * Differentiable batch norm over NHWC tensors. The running statistics are
 * state, not part of the graph: training mode updates them in place during
 * the forward, as PyTorch does.
 *
 * @module
 */
import { Effect } from "effect";
import {
  batchNorm as batchNormOp,
  batchNormBackward,
  batchNormEval,
  type BatchNormMode,
} from "../ops/norm.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { constant, type GpuScoped, type Node, record } from "./tape.ts";

/** Running statistics of a batch-norm layer, each [C]. */
export interface RunningStats {
  readonly mean: Tensor<"f32">;
  readonly variance: Tensor<"f32">;
}

/** Options of {@link batchNorm}; momentum 0.1 and eps 1e-5 by default, as PyTorch. */
export interface BatchNormNodeOptions {
  readonly mode: BatchNormMode;
  readonly momentum?: number;
  readonly eps?: number;
  /** ReLU fused into the output (and its mask into the backward). */
  readonly relu?: boolean;
}

/**
 * Batch norm of `x` [N, H, W, C] with affine `weight` and `bias` [C]. In
 * "train" mode it normalises with the batch statistics, differentiates
 * through them, and updates `running` in place; in "eval" mode it normalises
 * with `running` (a per-channel affine map) and leaves it unchanged.
 */
export const batchNorm = (
  x: Node,
  weight: Node,
  bias: Node,
  running: RunningStats,
  options: BatchNormNodeOptions,
): GpuScoped<Node> =>
  Effect.gen(function* () {
    const state = {
      weight: weight.value,
      bias: bias.value,
      runningMean: running.mean,
      runningVar: running.variance,
    };
    const name = `batchNorm(${options.mode}${options.relu ? ", relu" : ""})`;
    if (options.mode === "eval" && ![x, weight, bias].some((n) => n.requiresGrad)) {
      // No gradient passes through (a frozen model's forward): y alone, in one dispatch.
      return constant(yield* batchNormEval(x.value, state, options), name);
    }
    const { y, stats } = yield* batchNormOp(x.value, state, options);
    return record(y, [x, weight, bias], (g, into) =>
      Effect.map(
        batchNormBackward(
          x.value,
          g,
          stats,
          weight.value,
          options.mode,
          // Straight into the parameters' gradients when both have one.
          into[1] && into[2] ? { weight: into[1], bias: into[2] } : undefined,
          options.relu ? y : undefined,
        ),
        (grads) => [grads.dx, grads.dWeight, grads.dBias],
      ), name);
  });
