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
 * both (constant UNBIASED). The differentiable nodes are in
 * `autograd/distill.ts`.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import { BindingError, type GpuError } from "../gpu/errors.ts";
import { defineKernel, linearGrid } from "../gpu/kernel.ts";
import { reduceLossRows, reductionCode, upstreamWgsl } from "./loss.ts";
import { channelView, rowLseWgsl } from "./softmax.ts";
import { empty, type Tensor } from "../tensor/tensor.ts";
import distillSource from "../../shaders/distill/common.wgsl" with { type: "text" };
import forwardSource from "../../shaders/distill/forward.wgsl" with { type: "text" };
import backwardSource from "../../shaders/distill/backward.wgsl" with { type: "text" };

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
  name: "shaders/distill/forward.wgsl",
  source: rowLseWgsl("logits") + distillSource + forwardSource,
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
  name: "shaders/distill/backward.wgsl",
  source: upstreamWgsl + rowLseWgsl("logits") + distillSource + backwardSource,
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

/** Result of {@link distill}: the loss and what its backward reads. */
export interface DistillResult {
  /** [1]: the mean loss. */
  readonly loss: Tensor<"f32">;
  /** Column totals (loss sum, pixels). */
  readonly totals: Tensor<"f32">;
}

/**
 * The distillation of `teacher` [N, H, W, old] (logits) into `student`
 * [N, H, W, C]: MiB's unbiased KD when `unbiased`, else its KD for LwF.
 */
export const distill = (
  unbiased: boolean,
  student: Tensor<"f32">,
  teacher: Tensor<"f32">,
  oldClasses: number,
  options: DistillationOptions = {},
): Effect.Effect<DistillResult, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const kernel = distillForwardKernel.name;
    const fail = (binding: string, reason: string) => new BindingError({ kernel, binding, reason });
    const { pixels, channels } = channelView(student.shape);
    const old = channelView(teacher.shape);
    if (old.channels !== oldClasses || old.pixels !== pixels || oldClasses > channels) {
      return yield* fail(
        "teacher",
        `teacher [${teacher.shape.join(", ")}] does not give ${oldClasses} old classes for ` +
          `student [${student.shape.join(", ")}]`,
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
    const rows = yield* empty([pixels, 1], "f32");
    yield* gpu.recorder.dispatch(
      distillForwardKernel,
      { logits: student, teacher, mask: options.mask ?? teacher, rows },
      distillParams(pixels, channels, oldClasses, alpha),
      { UNBIASED: unbiased ? 1 : 0, HAS_MASK: options.mask ? 1 : 0 },
    );
    const reduced = yield* reduceLossRows(rows, pixels, 1, "mean", 1, [1]);
    return { loss: reduced.value, totals: reduced.totals };
  });

// Totals are (loss sum, pixels): MiB's mean divides by every pixel.
const distillParams = (pixels: number, channels: number, oldClasses: number, alpha: number) => ({
  pixels,
  channels,
  old_classes: oldClasses,
  alpha,
  den_index: 1,
});

/** Student gradient of {@link distill} from the output gradient [1] and the forward's totals. */
export const distillBackward = (
  unbiased: boolean,
  student: Tensor<"f32">,
  teacher: Tensor<"f32">,
  oldClasses: number,
  grad: Tensor<"f32">,
  totals: Tensor<"f32">,
  options: DistillationOptions = {},
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const { pixels, channels } = channelView(student.shape);
    const gpu = yield* Gpu;
    const dz = yield* empty(student.shape, "f32");
    yield* gpu.recorder.dispatch(
      distillBackwardKernel,
      { logits: student, teacher, mask: options.mask ?? teacher, grad, totals, dz },
      distillParams(pixels, channels, oldClasses, options.alpha ?? 1),
      {
        UNBIASED: unbiased ? 1 : 0,
        HAS_MASK: options.mask ? 1 : 0,
        REDUCTION: reductionCode("mean"),
      },
    );
    return dz;
  });
