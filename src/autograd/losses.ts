/**
 * Differentiable losses: cross-entropy (ignore 255, per-pixel weights that
 * re-weight the gradient and receive none), KL divergence over channels,
 * BCE with logits, and masked sum / mean over pixels. Each returns a Node
 * holding the loss ([1] for the sum and mean reductions).
 *
 * @module
 */
import { Effect } from "effect";
import { BindingError } from "../gpu/errors.ts";
import type { Tensor } from "../tensor/tensor.ts";
import {
  crossEntropy as crossEntropyOp,
  crossEntropyBackward,
  type CrossEntropyOptions,
  unbiasedCrossEntropy as unbiasedCrossEntropyOp,
  unbiasedCrossEntropyBackward,
  type UnbiasedCrossEntropyOptions,
} from "../ops/cross_entropy.ts";
import { klDivergence as klOp, klDivergenceBackward, type KlOptions } from "../ops/kl.ts";
import { bceWithLogits as bceOp, bceWithLogitsBackward } from "../ops/bce.ts";
import type { Reduction } from "../ops/loss.ts";
import { type Mask, type MaskedOp, maskedReduce, maskedReduceBackward } from "../ops/masked.ts";
import { type GpuScoped, type Node, record } from "./tape.ts";

/**
 * Cross-entropy of `logits` [N, H, W, C] against `labels` [N, H, W], with the
 * bad-label counter (labels neither in [0, C) nor 255, ignored and counted).
 */
export const crossEntropyChecked = (
  logits: Node,
  labels: Tensor<"i32">,
  options: CrossEntropyOptions = {},
): GpuScoped<{ readonly loss: Node; readonly badLabels: Tensor<"u32"> }> =>
  Effect.gen(function* () {
    const r = yield* crossEntropyOp(logits.value, labels, options);
    const loss = record(
      r.loss,
      [logits],
      (g) =>
        Effect.map(
          crossEntropyBackward(logits.value, labels, g, r.totals, options),
          (dz) => [dz],
        ),
      "crossEntropy",
    );
    return { loss, badLabels: r.badLabels };
  });

/** Cross-entropy (mean over valid pixels by default); see {@link crossEntropyChecked}. */
export const crossEntropy = (
  logits: Node,
  labels: Tensor<"i32">,
  options: CrossEntropyOptions = {},
): GpuScoped<Node> => Effect.map(crossEntropyChecked(logits, labels, options), (r) => r.loss);

/**
 * MiB's unbiased cross-entropy (the unbiased mode of the cross-entropy) of
 * `logits` [N, H, W, C] against `labels` [N, H, W] with `oldClasses` =
 * |C_{0:t-1}| (background included); a [1] node.
 */
export const unbiasedCrossEntropy = (
  logits: Node,
  labels: Tensor<"i32">,
  oldClasses: number,
  options: UnbiasedCrossEntropyOptions = {},
): GpuScoped<Node> =>
  Effect.gen(function* () {
    const r = yield* unbiasedCrossEntropyOp(logits.value, labels, oldClasses, options);
    return record(
      r.loss,
      [logits],
      (g) =>
        Effect.map(
          unbiasedCrossEntropyBackward(logits.value, labels, oldClasses, g, r.totals, options),
          (dz) => [dz],
        ),
      "unbiasedCrossEntropy",
    );
  });

/**
 * KL(teacher || student) per pixel over channels, reduced (mean by default).
 * The teacher gets a gradient when it requires one, which needs its logits form.
 */
export const klDivergence = (
  teacher: Node,
  student: Node,
  options: KlOptions = {},
): GpuScoped<Node> =>
  Effect.gen(function* () {
    if (teacher.requiresGrad && options.teacher !== "logits") {
      return yield* new BindingError({
        kernel: "klDivergence",
        binding: "teacher",
        reason: "a teacher that requires a gradient must be given as logits",
      });
    }
    const r = yield* klOp(teacher.value, student.value, options);
    return record(
      r.loss,
      [teacher, student],
      (g) =>
        Effect.map(
          klDivergenceBackward(
            teacher.value,
            student.value,
            g,
            r.totals,
            options,
            teacher.requiresGrad,
          ),
          (d) => [d.teacher, student.requiresGrad ? d.student : undefined],
        ),
      "klDivergence",
    );
  });

/** BCE with logits against constant `targets` (same shape), mean over elements by default. */
export const bceWithLogits = (
  logits: Node,
  targets: Tensor<"f32">,
  reduction: Reduction = "mean",
): GpuScoped<Node> =>
  Effect.gen(function* () {
    const r = yield* bceOp(logits.value, targets, reduction);
    return record(
      r.loss,
      [logits],
      (g) =>
        Effect.map(
          bceWithLogitsBackward(logits.value, targets, g, r.totals, reduction),
          (dx) => [dx],
        ),
      "bceWithLogits",
    );
  });

const masked = (op: MaskedOp, x: Node, mask: Mask): GpuScoped<Node> =>
  Effect.gen(function* () {
    const r = yield* maskedReduce(op, x.value, mask);
    return record(
      r.value,
      [x],
      (g) => Effect.map(maskedReduceBackward(op, g, mask, r.totals, x.value.shape), (dx) => [dx]),
      op === "sum" ? "maskedSum" : "maskedMean",
    );
  });

/** sum_p w_p x_p over pixels (mask [P]); shape [x.elements / P]. The mask is constant. */
export const maskedSum = (x: Node, mask: Mask): GpuScoped<Node> => masked("sum", x, mask);

/** sum_p w_p x_p / sum_p w_p over pixels (mask [P]); 0 for an empty selection. */
export const maskedMean = (x: Node, mask: Mask): GpuScoped<Node> => masked("mean", x, mask);
