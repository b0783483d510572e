/**
 * GSC's soft-sharp semantic relation distillation loss (docs/gsc.md §3):
 * lambdaSoft * soft label + lambdaEntropy * entropy (+ lambdaRelation *
 * class relation), FISS's output terms (`SOFT_PARAM` 0.3, `REGULAR_PARAM`
 * 0.1, and its relation term's 0.5, optional here), the nodes of
 * `autograd/ssrd.ts` (kernels in `ops/ssrd.ts`, `ops/ssrd_relation.ts`).
 *
 * @module
 */
import { Effect } from "effect";
import { add, scale } from "../../autograd/basic.ts";
import { ssrdEntropy, ssrdRelation, ssrdSoftLabel } from "../../autograd/ssrd.ts";
import type { GpuScoped, Node } from "../../autograd/tape.ts";
import { BindingError } from "../../gpu/errors.ts";
import type { Tensor } from "../../tensor/tensor.ts";

/** Weights of {@link ssrdLoss} (FISS's defaults 0.3 and 0.1; its relation term's 0.5). */
export interface SsrdOptions {
  readonly lambdaSoft: number;
  readonly lambdaEntropy: number;
  /** The relation term's weight; 0 or absent leaves the term out (no kernels). */
  readonly lambdaRelation?: number;
  /** The relation term's per-pixel weights (SGC's, or 1); required when it is on. */
  readonly relationWeights?: Tensor<"f32">;
}

/**
 * SSRD for the student `newLogits` [N, H, W, C] (a node), the frozen teacher
 * `oldLogits` [N, H, W, oldClasses] and the step's `targets` [N, H, W]
 * (pseudo labels, 255 = ignore): lambdaSoft * soft + lambdaEntropy * entropy
 * (+ lambdaRelation * relation), and the terms unweighted.
 */
export const ssrdLoss = (
  newLogits: Node,
  oldLogits: Tensor<"f32">,
  targets: Tensor<"i32">,
  oldClasses: number,
  options: SsrdOptions,
): GpuScoped<{
  readonly loss: Node;
  readonly soft: Node;
  readonly entropy: Node;
  readonly relation?: Node;
}> =>
  Effect.gen(function* () {
    const soft = yield* ssrdSoftLabel(newLogits, oldLogits, targets, oldClasses);
    const entropy = yield* ssrdEntropy(newLogits, oldLogits, targets, oldClasses);
    const loss = yield* add(
      yield* scale(soft, options.lambdaSoft),
      yield* scale(entropy, options.lambdaEntropy),
    );
    const lambda = options.lambdaRelation ?? 0;
    if (lambda === 0) return { loss, soft, entropy };
    if (!options.relationWeights) {
      return yield* new BindingError({
        kernel: "ssrdLoss",
        binding: "relationWeights",
        reason: "the relation term needs per-pixel weights",
      });
    }
    const relation = yield* ssrdRelation(newLogits, oldLogits, targets, options.relationWeights);
    return { loss: yield* add(loss, yield* scale(relation, lambda)), soft, entropy, relation };
  });
