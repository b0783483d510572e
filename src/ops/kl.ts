/**
 * KL divergence over channels between a teacher distribution p and a student
 * q, per pixel: KL(p || q) = sum_c p_c (log p_c - log q_c). The teacher comes
 * as probabilities or as logits (p = softmax(t / T)); the student as logits
 * (q = softmax(s / T)) or log-probabilities. Pixels may be weighted by a mask
 * (f32 weights, or i32 nonzero = selected); the mean divides by the mask's sum.
 *
 * The gradient reaches the student always and the teacher only in its logits
 * form (the probabilities form would have log 0 at p = 0; distillation keeps
 * that teacher fixed). No T^2 factor is applied: scale the loss if wanted.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import { BindingError, type GpuError } from "../gpu/errors.ts";
import { defineKernel, linearGrid } from "../gpu/kernel.ts";
import { empty, type Tensor } from "../tensor/tensor.ts";
import { channelView, checkTemperature, rowLseWgsl } from "./softmax.ts";
import { type Mask, maskWeightWgsl } from "./masked.ts";
import { reduceLossRows, type Reduction, reductionCode, upstreamWgsl } from "./loss.ts";
import commonSource from "../../shaders/loss/kl_common.wgsl" with { type: "text" };
import forwardSource from "../../shaders/loss/kl_forward.wgsl" with { type: "text" };
import backwardSource from "../../shaders/loss/kl_backward.wgsl" with { type: "text" };

const teacherStudentLse = rowLseWgsl("teacher") + rowLseWgsl("student");

const WG = 64;

const klParams = { pixels: "u32", channels: "u32", inv_t: "f32", den_index: "u32" } as const;
const klConstants = { TEACHER: "u32", STUDENT: "u32", HAS_MASK: "u32" } as const;

const forwardKernelFor = (maskType: "f32" | "i32") =>
  defineKernel({
    name: `shaders/loss/kl_forward.wgsl<${maskType}>`,
    source: maskWeightWgsl(maskType) + teacherStudentLse + commonSource + forwardSource,
    bindings: {
      teacher: { access: "read", type: "f32" },
      student: { access: "read", type: "f32" },
      mask: { access: "read", type: maskType },
      rows: { access: "read_write", type: "f32" },
    },
    params: klParams,
    constants: klConstants,
    workgroupSize: [WG, 1, 1],
    dispatch: ({ pixels }) => linearGrid(pixels, WG),
    minElements: ({ pixels, channels }, { HAS_MASK }) => ({
      teacher: pixels * channels,
      student: pixels * channels,
      mask: HAS_MASK ? pixels : 0,
      rows: 2 * pixels,
    }),
  });

const backwardKernelFor = (maskType: "f32" | "i32") =>
  defineKernel({
    name: `shaders/loss/kl_backward.wgsl<${maskType}>`,
    source: maskWeightWgsl(maskType) + upstreamWgsl + teacherStudentLse + commonSource +
      backwardSource,
    bindings: {
      teacher: { access: "read", type: "f32" },
      student: { access: "read", type: "f32" },
      mask: { access: "read", type: maskType },
      grad: { access: "read", type: "f32" },
      totals: { access: "read", type: "f32" },
      dstudent: { access: "read_write", type: "f32" },
      dteacher: { access: "read_write", type: "f32" },
    },
    params: klParams,
    constants: { ...klConstants, REDUCTION: "u32", TEACHER_GRAD: "u32" },
    workgroupSize: [WG, 1, 1],
    dispatch: ({ pixels }) => linearGrid(pixels, WG),
    minElements: ({ pixels, channels, den_index }, c) => ({
      teacher: pixels * channels,
      student: pixels * channels,
      mask: c.HAS_MASK ? pixels : 0,
      grad: c.REDUCTION === 0 ? pixels : 1,
      totals: c.REDUCTION === 2 ? den_index + 1 : 0,
      dstudent: pixels * channels,
      dteacher: c.TEACHER_GRAD ? pixels * channels : 0,
    }),
  });

/** Per-pixel rows (w * KL, w), one kernel per mask dtype. */
export const klForwardKernels = { f32: forwardKernelFor("f32"), i32: forwardKernelFor("i32") };
/** Student (and teacher) gradients, one kernel per mask dtype. */
export const klBackwardKernels = { f32: backwardKernelFor("f32"), i32: backwardKernelFor("i32") };

/** How the teacher and the student are given, and how the loss is reduced. */
export interface KlOptions {
  /** "probs" (default) or "logits" (p = softmax(t / T)). */
  readonly teacher?: "probs" | "logits";
  /** "logits" (default, q = softmax(s / T)) or "logProbs". */
  readonly student?: "logits" | "logProbs";
  /** Temperature T > 0 of the logits forms. Default 1. */
  readonly temperature?: number;
  /** Per-pixel weights [N, H, W]. */
  readonly mask?: Mask;
  /** Default "mean" (over the mask's sum, or the pixel count). */
  readonly reduction?: Reduction;
}

/** Result of {@link klDivergence}. */
export interface KlResult {
  /** [1] for sum and mean; the per-pixel map w * KL [N, H, W] for none. */
  readonly loss: Tensor<"f32">;
  /** [3] f32: the masked KL sum, the mask's sum, the pixel count. */
  readonly totals: Tensor<"f32">;
}

// Column of the mask's sum in the totals: the mean's denominator.
const WEIGHT_COLUMN = 1;

const setup = (kernel: string, teacher: Tensor<"f32">, student: Tensor<"f32">, o: KlOptions) => {
  const bad = checkTemperature(kernel, o.temperature ?? 1);
  if (bad) return bad;
  const view = channelView(student.shape);
  if (view.channels === 0 || teacher.elements !== student.elements) {
    return new BindingError({
      kernel,
      binding: "teacher",
      reason: `teacher [${teacher.shape.join(", ")}] and student [${
        student.shape.join(", ")
      }] differ`,
    });
  }
  if (o.mask && o.mask.elements !== view.pixels) {
    return new BindingError({
      kernel,
      binding: "mask",
      reason: `${o.mask.elements} mask values for ${view.pixels} pixels`,
    });
  }
  return {
    view,
    params: {
      pixels: view.pixels,
      channels: view.channels,
      inv_t: 1 / (o.temperature ?? 1),
      den_index: WEIGHT_COLUMN,
    },
    constants: {
      TEACHER: o.teacher === "logits" ? 1 : 0,
      STUDENT: o.student === "logProbs" ? 1 : 0,
      HAS_MASK: o.mask ? 1 : 0,
    },
  };
};

/** KL(teacher || student) per pixel over channels, reduced (see {@link KlOptions}). */
export const klDivergence = (
  teacher: Tensor<"f32">,
  student: Tensor<"f32">,
  options: KlOptions = {},
): Effect.Effect<KlResult, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const kernel = klForwardKernels[options.mask?.dtype ?? "f32"];
    const s = setup(kernel.name, teacher, student, options);
    if (s instanceof BindingError) return yield* s;
    const gpu = yield* Gpu;
    const rows = yield* empty([s.view.pixels, 2], "f32");
    yield* gpu.recorder.dispatch(
      kernel,
      { teacher, student, mask: options.mask ?? student, rows },
      s.params,
      s.constants,
    );
    const mapShape = student.shape.slice(0, -1);
    const reduced = yield* reduceLossRows(
      rows,
      s.view.pixels,
      2,
      options.reduction ?? "mean",
      WEIGHT_COLUMN,
      mapShape.length > 0 ? mapShape : [1],
    );
    return { loss: reduced.value, totals: reduced.totals };
  });

/** Gradients of {@link klDivergence}; `teacher` is undefined unless asked for. */
export interface KlGradients {
  readonly student: Tensor<"f32">;
  readonly teacher: Tensor<"f32"> | undefined;
}

/**
 * Gradients of {@link klDivergence} from the output gradient `grad` ([1], or
 * the map's shape for none) and the forward's totals. `teacherGrad` asks for
 * the teacher's gradient too (logits form only).
 */
export const klDivergenceBackward = (
  teacher: Tensor<"f32">,
  student: Tensor<"f32">,
  grad: Tensor<"f32">,
  totals: Tensor<"f32">,
  options: KlOptions = {},
  teacherGrad = false,
): Effect.Effect<KlGradients, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const kernel = klBackwardKernels[options.mask?.dtype ?? "f32"];
    const s = setup(kernel.name, teacher, student, options);
    if (s instanceof BindingError) return yield* s;
    if (teacherGrad && options.teacher !== "logits") {
      return yield* new BindingError({
        kernel: kernel.name,
        binding: "dteacher",
        reason: "a teacher gradient needs the teacher as logits",
      });
    }
    const gpu = yield* Gpu;
    const dstudent = yield* empty(student.shape, "f32");
    const dteacher = yield* empty(teacherGrad ? teacher.shape : [1], "f32");
    yield* gpu.recorder.dispatch(
      kernel,
      { teacher, student, mask: options.mask ?? student, grad, totals, dstudent, dteacher },
      s.params,
      {
        ...s.constants,
        REDUCTION: reductionCode(options.reduction ?? "mean"),
        TEACHER_GRAD: teacherGrad ? 1 : 0,
      },
    );
    return { student: dstudent, teacher: teacherGrad ? dteacher : undefined };
  });
