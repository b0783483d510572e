/**
 * The two terms of soft-sharp semantic relation distillation as
 * differentiable nodes of the student's logits (the kernels are in
 * `ops/ssrd.ts`; `incremental/gsc/ssrd.ts` weighs them into GSC's loss).
 *
 * @module
 */
import { Effect } from "effect";
import { ssrdBackward, ssrdSharpForward, ssrdSoftForward } from "../ops/ssrd.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { type GpuScoped, type Node, record } from "./tape.ts";

/** The soft term Tsoft^2 * mean_c KL(R'_c || R_c) as a [1] node (0 without old targets). */
export const ssrdSoft = (
  newLogits: Node,
  oldLogits: Tensor<"f32">,
  targets: Tensor<"i32">,
  oldClasses: number,
  newClassesStart: number,
  tSoft: number,
): GpuScoped<Node> =>
  Effect.gen(function* () {
    const term = yield* ssrdSoftForward(
      newLogits.value,
      oldLogits,
      targets,
      oldClasses,
      newClassesStart,
      tSoft,
    );
    const backward = (grad: Tensor<"f32">) =>
      Effect.map(ssrdBackward(term.layout, 1 / tSoft, 0, term.saved, grad), (dz) => [dz]);
    return record(term.value, [newLogits], backward, "ssrdSoft");
  });

/** The sharp term mean_i KL(softmax(z'_i / Tsharp) || q_i) as a [1] node. */
export const ssrdSharp = (
  newLogits: Node,
  oldLogits: Tensor<"f32">,
  targets: Tensor<"i32">,
  oldClasses: number,
  newClassesStart: number,
  tSharp: number,
): GpuScoped<Node> =>
  Effect.gen(function* () {
    const term = yield* ssrdSharpForward(
      newLogits.value,
      oldLogits,
      targets,
      oldClasses,
      newClassesStart,
      tSharp,
    );
    const backward = (grad: Tensor<"f32">) =>
      Effect.map(ssrdBackward(term.layout, 1 / tSharp, 1, term.saved, grad), (dz) => [dz]);
    return record(term.value, [newLogits], backward, "ssrdSharp");
  });
