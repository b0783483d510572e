/**
 * GSC's soft-sharp semantic relation distillation loss (docs/gsc.md §3):
 * lambdaSoft * soft label + lambdaEntropy * entropy, FISS's two output terms
 * (`SOFT_PARAM` 0.3 and `REGULAR_PARAM` 0.1), the nodes of
 * `autograd/ssrd.ts` (kernels in `ops/ssrd.ts`).
 *
 * @module
 */
import { Effect } from "effect";
import { add, scale } from "../../autograd/basic.ts";
import { ssrdEntropy, ssrdSoftLabel } from "../../autograd/ssrd.ts";
import type { GpuScoped, Node } from "../../autograd/tape.ts";
import type { Tensor } from "../../tensor/tensor.ts";

/** Weights of {@link ssrdLoss} (FISS's defaults 0.3 and 0.1). */
export interface SsrdOptions {
  readonly lambdaSoft: number;
  readonly lambdaEntropy: number;
}

/**
 * SSRD for the student `newLogits` [N, H, W, C] (a node), the frozen teacher
 * `oldLogits` [N, H, W, oldClasses] and the step's `targets` [N, H, W]
 * (pseudo labels, 255 = ignore): lambdaSoft * soft + lambdaEntropy * entropy,
 * and both terms unweighted.
 */
export const ssrdLoss = (
  newLogits: Node,
  oldLogits: Tensor<"f32">,
  targets: Tensor<"i32">,
  oldClasses: number,
  options: SsrdOptions,
): GpuScoped<{ readonly loss: Node; readonly soft: Node; readonly entropy: Node }> =>
  Effect.gen(function* () {
    const soft = yield* ssrdSoftLabel(newLogits, oldLogits, targets, oldClasses);
    const entropy = yield* ssrdEntropy(newLogits, oldLogits, targets, oldClasses);
    const loss = yield* add(
      yield* scale(soft, options.lambdaSoft),
      yield* scale(entropy, options.lambdaEntropy),
    );
    return { loss, soft, entropy };
  });
