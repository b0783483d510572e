/**
 * GSC's soft-sharp semantic relation distillation loss (docs/gsc.md §3):
 * lambdaSoft * soft + lambdaSharp * sharp, the terms being the nodes of
 * `autograd/ssrd.ts` (kernels in `ops/ssrd.ts`).
 *
 * @module
 */
import { Effect } from "effect";
import { add, scale } from "../../autograd/basic.ts";
import { ssrdSharp, ssrdSoft } from "../../autograd/ssrd.ts";
import type { GpuScoped, Node } from "../../autograd/tape.ts";
import type { Tensor } from "../../tensor/tensor.ts";

/** Temperatures and weights of {@link ssrdLoss} (CLI defaults 2, 0.5, 1, 1). */
export interface SsrdOptions {
  readonly tSoft: number;
  readonly tSharp: number;
  readonly lambdaSoft: number;
  readonly lambdaSharp: number;
}

/**
 * SSRD for the student `newLogits` [N, H, W, C] (a node), the frozen teacher
 * `oldLogits` [N, H, W, oldClasses] and the step's `targets` [N, H, W]: the
 * new classes are channels [newClassesStart, C) (usually newClassesStart =
 * oldClasses). Returns lambdaSoft * soft + lambdaSharp * sharp and both terms.
 */
export const ssrdLoss = (
  newLogits: Node,
  oldLogits: Tensor<"f32">,
  targets: Tensor<"i32">,
  oldClasses: number,
  newClassesStart: number,
  options: SsrdOptions,
): GpuScoped<{ readonly loss: Node; readonly soft: Node; readonly sharp: Node }> =>
  Effect.gen(function* () {
    const soft = yield* ssrdSoft(
      newLogits,
      oldLogits,
      targets,
      oldClasses,
      newClassesStart,
      options.tSoft,
    );
    const sharp = yield* ssrdSharp(
      newLogits,
      oldLogits,
      targets,
      oldClasses,
      newClassesStart,
      options.tSharp,
    );
    const loss = yield* add(
      yield* scale(soft, options.lambdaSoft),
      yield* scale(sharp, options.lambdaSharp),
    );
    return { loss, soft, sharp };
  });
