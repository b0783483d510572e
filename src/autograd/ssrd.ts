/**
 * GSC's SSRD terms as differentiable nodes of the student's logits (the
 * kernels are in `ops/ssrd.ts` and `ops/ssrd_relation.ts`;
 * `incremental/gsc/ssrd.ts` weighs them into GSC's loss): FISS's soft-label
 * term, its entropy term and its class relation term.
 *
 * @module
 */
import { Effect } from "effect";
import { ssrdTermBackward, ssrdTermForward, type SsrdTermKind } from "../ops/ssrd.ts";
import { relationBackward, relationForward } from "../ops/ssrd_relation.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { type GpuScoped, type Node, record } from "./tape.ts";

const ssrdTerm = (
  kind: SsrdTermKind,
  newLogits: Node,
  oldLogits: Tensor<"f32">,
  targets: Tensor<"i32">,
  oldClasses: number,
): GpuScoped<Node> =>
  Effect.gen(function* () {
    const z = newLogits.value;
    const term = yield* ssrdTermForward(kind, z, oldLogits, targets, oldClasses);
    const backward = (grad: Tensor<"f32">) =>
      Effect.map(ssrdTermBackward(kind, z, oldLogits, targets, term, grad), (dz) => [dz]);
    return record(term.value, [newLogits], backward, `ssrd-${kind}`);
  });

/**
 * FISS's soft-label term as a [1] node: the mean over pixels whose target is
 * not 255 of -(1/C) sum_c q_c log softmax(z)_c, q = softmax([sigmoid(z'),
 * one-hot of the pixel's current class or zeros]).
 */
export const ssrdSoftLabel = (
  newLogits: Node,
  oldLogits: Tensor<"f32">,
  targets: Tensor<"i32">,
  oldClasses: number,
): GpuScoped<Node> => ssrdTerm("soft", newLogits, oldLogits, targets, oldClasses);

/** FISS's entropy term as a [1] node: the mean over every pixel of -(1/C) sum_c p_c log p_c. */
export const ssrdEntropy = (
  newLogits: Node,
  oldLogits: Tensor<"f32">,
  targets: Tensor<"i32">,
  oldClasses: number,
): GpuScoped<Node> => ssrdTerm("entropy", newLogits, oldLogits, targets, oldClasses);

/**
 * FISS's class relation term as a [1] node: (1/C) sum_c |wbar_c (m_new_c -
 * m_old_c)|, the per-class means of the student's largest probability (over
 * the pixels it predicts as c), of the teacher's (over the pixels whose
 * target is c) and of `weights` (over the same pixels); see
 * `ops/ssrd_relation.ts`.
 */
export const ssrdRelation = (
  newLogits: Node,
  oldLogits: Tensor<"f32">,
  targets: Tensor<"i32">,
  weights: Tensor<"f32">,
): GpuScoped<Node> =>
  Effect.gen(function* () {
    const z = newLogits.value;
    const term = yield* relationForward(z, oldLogits, targets, weights);
    const backward = (grad: Tensor<"f32">) =>
      Effect.map(relationBackward(z, term, grad), (dz) => [dz]);
    return record(term.value, [newLogits], backward, "ssrd-relation");
  });
