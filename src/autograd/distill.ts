/**
 * The output distillations of the baselines as differentiable nodes (the
 * kernels and their math are in `ops/distill.ts`): MiB's unbiased knowledge
 * distillation and its KD for LwF / ILT. The gradient goes to the new
 * logits only.
 *
 * @module
 */
import { Effect } from "effect";
import { distill, type DistillationOptions, distillBackward } from "../ops/distill.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { type GpuScoped, type Node, record } from "./tape.ts";

const distillNode = (
  unbiased: boolean,
  student: Node,
  teacher: Tensor<"f32">,
  oldClasses: number,
  options: DistillationOptions,
): GpuScoped<Node> =>
  Effect.gen(function* () {
    const r = yield* distill(unbiased, student.value, teacher, oldClasses, options);
    return record(
      r.loss,
      [student],
      (grad) =>
        Effect.map(
          distillBackward(unbiased, student.value, teacher, oldClasses, grad, r.totals, options),
          (dz) => [dz],
        ),
      unbiased ? "unbiasedDistillation" : "knowledgeDistillation",
    );
  });

/**
 * MiB's unbiased knowledge distillation of the old model's logits [N, H, W, old]
 * into the new logits [N, H, W, C]; a [1] node (gradient to the new logits only).
 */
export const unbiasedDistillation = (
  newLogits: Node,
  oldLogits: Tensor<"f32">,
  oldClasses: number,
  options: DistillationOptions = {},
): GpuScoped<Node> => distillNode(true, newLogits, oldLogits, oldClasses, options);

/**
 * LwF's knowledge distillation as MiB implements it: the new logits' first
 * `oldClasses` channels against the old model's softmax; a [1] node.
 */
export const knowledgeDistillation = (
  newLogits: Node,
  oldLogits: Tensor<"f32">,
  oldClasses: number,
  options: DistillationOptions = {},
): GpuScoped<Node> => distillNode(false, newLogits, oldLogits, oldClasses, options);
