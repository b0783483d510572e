/**
 * The output distillations of the baselines, as MiB implements them
 * (fcdl94/MiB utils/loss.py): `knowledgeDistillation` is
 * KnowledgeDistillationLoss (LwF and ILT): the new logits narrowed to the
 * old channels, log-softmax over them, against softmax(alpha * old logits);
 * `unbiasedDistillation` is UnbiasedKnowledgeDistillationLoss: the student's
 * background log-probability is lse(z_0, z_old..z_{C-1}) - lse(z) (the new
 * classes are background for the old model), its old classes z_c - lse(z).
 *
 * Both are -mean_p m_p (sum_c q_c lp_c) / |old|: MiB averages over the old
 * classes (`.mean(dim=1)`, resp. `/ targets.shape[1]`) and then over all
 * B*H*W pixels; an optional mask multiplies pixels but, as in MiB, the mean
 * still divides by the pixel count. One fused kernel per direction serves
 * both (constant UNBIASED).
 *
 * @module
 */
import { Effect } from "effect";
import { Gpu } from "../../gpu/device.ts";
import { BindingError } from "../../gpu/errors.ts";
import { defineKernel, linearGrid } from "../../gpu/kernel.ts";
import { type GpuScoped, type Node, record } from "../../autograd/tape.ts";
import { reduceLossRows, reductionCode, upstreamWgsl } from "../../ops/loss.ts";
import { channelView } from "../../ops/softmax.ts";
import { empty, type Tensor } from "../../tensor/tensor.ts";
import commonSource from "../../../shaders/incremental/common.wgsl" with { type: "text" };
import distillSource from "../../../shaders/incremental/distill_common.wgsl" with {
  type: "text",
};
import forwardSource from "../../../shaders/incremental/distill_forward.wgsl" with {
  type: "text",
};
import backwardSource from "../../../shaders/incremental/distill_backward.wgsl" with {
  type: "text",
};

const WG = 64;

const params = {
  pixels: "u32",
  channels: "u32",
  old_classes: "u32",
  alpha: "f32",
  den_index: "u32",
} as const;

const sizes = (p: { pixels: number; channels: number; old_classes: number }, mask: number) => ({
  logits: p.pixels * p.channels,
  teacher: p.pixels * p.old_classes,
  mask: mask ? p.pixels : 0,
});

/** Per-pixel distillation loss rows [P, 1]. */
export const distillForwardKernel = defineKernel({
  name: "shaders/incremental/distill_forward.wgsl",
  source: commonSource + distillSource + forwardSource,
  bindings: {
    logits: { access: "read", type: "f32" },
    teacher: { access: "read", type: "f32" },
    mask: { access: "read", type: "f32" },
    rows: { access: "read_write", type: "f32" },
  },
  params,
  constants: { UNBIASED: "u32", HAS_MASK: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ pixels }) => linearGrid(pixels, WG),
  minElements: (p, c) => ({ ...sizes(p, c.HAS_MASK), rows: p.pixels }),
});

/** Student gradient of the distillation. */
export const distillBackwardKernel = defineKernel({
  name: "shaders/incremental/distill_backward.wgsl",
  source: upstreamWgsl + commonSource + distillSource + backwardSource,
  bindings: {
    logits: { access: "read", type: "f32" },
    teacher: { access: "read", type: "f32" },
    mask: { access: "read", type: "f32" },
    grad: { access: "read", type: "f32" },
    totals: { access: "read", type: "f32" },
    dz: { access: "read_write", type: "f32" },
  },
  params,
  constants: { UNBIASED: "u32", HAS_MASK: "u32", REDUCTION: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ pixels }) => linearGrid(pixels, WG),
  minElements: (p, c) => ({
    ...sizes(p, c.HAS_MASK),
    grad: 1,
    totals: p.den_index + 1,
    dz: p.pixels * p.channels,
  }),
});

/** Options of the distillations. */
export interface DistillationOptions {
  /** Multiplies the old logits before their softmax (MiB's `alpha`). Default 1. */
  readonly alpha?: number;
  /** Per-pixel weights [N, H, W] (MiB's optional mask); the mean still divides by all pixels. */
  readonly mask?: Tensor<"f32">;
}

const distill = (
  unbiased: boolean,
  student: Node,
  teacher: Tensor<"f32">,
  oldClasses: number,
  options: DistillationOptions,
): GpuScoped<Node> =>
  Effect.gen(function* () {
    const kernel = distillForwardKernel.name;
    const fail = (binding: string, reason: string) => new BindingError({ kernel, binding, reason });
    const { pixels, channels } = channelView(student.value.shape);
    const old = channelView(teacher.shape);
    if (old.channels !== oldClasses || old.pixels !== pixels || oldClasses > channels) {
      return yield* fail(
        "teacher",
        `teacher [${teacher.shape.join(", ")}] does not give ${oldClasses} old classes for ` +
          `student [${student.value.shape.join(", ")}]`,
      );
    }
    if (!Number.isInteger(oldClasses) || oldClasses < 1) {
      return yield* fail("params.old_classes", `${oldClasses} old classes`);
    }
    if (options.mask && options.mask.elements !== pixels) {
      return yield* fail("mask", `${options.mask.elements} mask values for ${pixels} pixels`);
    }
    const alpha = options.alpha ?? 1;
    if (!Number.isFinite(alpha)) return yield* fail("params.alpha", `alpha ${alpha}`);
    const gpu = yield* Gpu;
    // Totals are (loss sum, pixels): MiB's mean divides by every pixel.
    const p = { pixels, channels, old_classes: oldClasses, alpha, den_index: 1 };
    const constants = { UNBIASED: unbiased ? 1 : 0, HAS_MASK: options.mask ? 1 : 0 };
    const mask = options.mask ?? teacher;
    const rows = yield* empty([pixels, 1], "f32");
    yield* gpu.recorder.dispatch(
      distillForwardKernel,
      { logits: student.value, teacher, mask, rows },
      p,
      constants,
    );
    const reduced = yield* reduceLossRows(rows, pixels, 1, "mean", 1, [1]);
    return record(reduced.value, [student], (grad) =>
      Effect.gen(function* () {
        const dz = yield* empty(student.value.shape, "f32");
        yield* gpu.recorder.dispatch(
          distillBackwardKernel,
          { logits: student.value, teacher, mask, grad, totals: reduced.totals, dz },
          p,
          { ...constants, REDUCTION: reductionCode("mean") },
        );
        return [dz];
      }), unbiased ? "unbiasedDistillation" : "knowledgeDistillation");
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
): GpuScoped<Node> => distill(true, newLogits, oldLogits, oldClasses, options);

/**
 * LwF's knowledge distillation as MiB implements it: the new logits' first
 * `oldClasses` channels against the old model's softmax; a [1] node.
 */
export const knowledgeDistillation = (
  newLogits: Node,
  oldLogits: Tensor<"f32">,
  oldClasses: number,
  options: DistillationOptions = {},
): GpuScoped<Node> => distill(false, newLogits, oldLogits, oldClasses, options);
