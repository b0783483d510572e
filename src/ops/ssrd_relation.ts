/**
 * FISS's class relation term, the optional third part of GSC's SSRD
 * (docs/gsc.md §3; JiahuaDong/FISS train.py `loss_dis`): per class c of the C
 * student channels,
 * - m_new_c: the mean of the student's largest softmax probability over the
 *   pixels it predicts as c (first argmax; every pixel);
 * - m_old_c: the mean of the teacher's largest softmax probability over the
 *   pixels whose target is c (255 skipped);
 * - wbar_c: the mean of the pixels' weights (SGC's, or 1) over the same pixels;
 * and the term is (1/C) sum_c |wbar_c (m_new_c - m_old_c)|, with every mean 0
 * for a class without pixels. Only m_new depends on the student: the
 * gradient reaches each pixel through its predicted class's probability. The
 * statistics are deterministic segmented sums; one kernel finalises the term
 * and its per-class coefficients, one kernel writes the gradient.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import { BindingError, type GpuError } from "../gpu/errors.ts";
import { defineKernel, linearGrid } from "../gpu/kernel.ts";
import { empty, type Tensor } from "../tensor/tensor.ts";
import { segmentedSum, segmentSumKernel } from "./segments.ts";
import { rowLseWgsl } from "./softmax.ts";
import commonSource from "../../shaders/ssrd/relation_common.wgsl" with { type: "text" };
import newSource from "../../shaders/ssrd/relation_new.wgsl" with { type: "text" };
import oldSource from "../../shaders/ssrd/relation_old.wgsl" with { type: "text" };
import finalizeSource from "../../shaders/ssrd/relation_finalize.wgsl" with { type: "text" };
import backwardSource from "../../shaders/ssrd/relation_backward.wgsl" with { type: "text" };

const WG = 64;

const studentSource = rowLseWgsl("logits") + commonSource;

/** Student side: per predicted class, the sum of the largest probabilities. */
export const relationNewSumKernel = segmentSumKernel(
  "ssrd-relation-new",
  studentSource + newSource,
  { logits: { access: "read", type: "f32" } },
);

/** Teacher side: per target class, the teacher's largest probabilities and the weights. */
export const relationOldSumKernel = segmentSumKernel(
  "ssrd-relation-old",
  rowLseWgsl("old_logits") + oldSource,
  {
    old_logits: { access: "read", type: "f32" },
    targets: { access: "read", type: "i32" },
    weights: { access: "read", type: "f32" },
  },
);

/** The term [1] and the backward's coefficients [C] from the class statistics. */
export const relationFinalizeKernel = defineKernel({
  name: "shaders/ssrd/relation_finalize.wgsl",
  source: finalizeSource,
  bindings: {
    new_sums: { access: "read", type: "f32" },
    new_counts: { access: "read", type: "u32" },
    old_sums: { access: "read", type: "f32" },
    old_counts: { access: "read", type: "u32" },
    value: { access: "read_write", type: "f32" },
    coef: { access: "read_write", type: "f32" },
  },
  params: { channels: "u32" },
  workgroupSize: [1, 1, 1],
  dispatch: () => [1, 1, 1],
  minElements: ({ channels }) => ({
    new_sums: channels,
    new_counts: channels,
    old_sums: 2 * channels,
    old_counts: channels,
    value: 1,
    coef: channels,
  }),
});

/** Gradient of the term with respect to the student logits. */
export const relationBackwardKernel = defineKernel({
  name: "shaders/ssrd/relation_backward.wgsl",
  source: studentSource + backwardSource,
  bindings: {
    logits: { access: "read", type: "f32" },
    coef: { access: "read", type: "f32" },
    grad: { access: "read", type: "f32" },
    dz: { access: "read_write", type: "f32" },
  },
  params: { pixels: "u32", channels: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ pixels }) => linearGrid(pixels, WG),
  minElements: ({ pixels, channels }) => ({
    logits: pixels * channels,
    coef: channels,
    grad: 1,
    dz: pixels * channels,
  }),
});

/** The term [1] and what its backward reads. */
export interface RelationTerm {
  readonly value: Tensor<"f32">;
  /** [C]: sign(wbar (m_new - m_old)) wbar / (C n_new) per class. */
  readonly coef: Tensor<"f32">;
  readonly pixels: number;
  readonly channels: number;
}

/**
 * The relation term of the student `logits` [..., C] against the teacher
 * `oldLogits` [..., K] (K <= C), the `targets` [...] (255 = ignore) and the
 * per-pixel `weights` [...].
 */
export const relationForward = (
  logits: Tensor<"f32">,
  oldLogits: Tensor<"f32">,
  targets: Tensor<"i32">,
  weights: Tensor<"f32">,
): Effect.Effect<RelationTerm, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const channels = logits.shape[logits.shape.length - 1] ?? 0;
    const oldClasses = oldLogits.shape[oldLogits.shape.length - 1] ?? 0;
    const pixels = targets.elements;
    const agree = channels >= 1 && oldClasses >= 1 && oldClasses <= channels &&
      logits.elements === pixels * channels && oldLogits.elements === pixels * oldClasses &&
      weights.elements === pixels;
    if (!agree) {
      return yield* new BindingError({
        kernel: "ssrdRelation",
        binding: "logits",
        reason: `student [${logits.shape}], teacher [${oldLogits.shape}], targets ` +
          `[${targets.shape}] and weights [${weights.shape}] do not agree`,
      });
    }
    const student = yield* segmentedSum(
      relationNewSumKernel,
      { logits },
      { pixels, values: 1, segments: channels },
      { channels },
    );
    const teacher = yield* segmentedSum(
      relationOldSumKernel,
      { old_logits: oldLogits, targets, weights },
      { pixels, values: 2, segments: channels },
      { channels, old_classes: oldClasses },
    );
    const value = yield* empty([1], "f32");
    const coef = yield* empty([channels], "f32");
    const gpu = yield* Gpu;
    yield* gpu.recorder.dispatch(relationFinalizeKernel, {
      new_sums: student.sums,
      new_counts: student.counts,
      old_sums: teacher.sums,
      old_counts: teacher.counts,
      value,
      coef,
    }, { channels });
    return { value, coef, pixels, channels };
  });

/** Gradient of the term with respect to the student logits, from the output gradient [1]. */
export const relationBackward = (
  logits: Tensor<"f32">,
  term: RelationTerm,
  grad: Tensor<"f32">,
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const dz = yield* empty(logits.shape, "f32");
    yield* gpu.recorder.dispatch(
      relationBackwardKernel,
      { logits, coef: term.coef, grad, dz },
      { pixels: term.pixels, channels: term.channels },
    );
    return dz;
  });
