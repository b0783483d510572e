/**
 * Soft-sharp semantic relation distillation (docs/gsc.md §3).
 * - Soft (class level): for every old class present in the targets, the
 *   mean old posterior at temperature Tsoft over its pixels (R') and the
 *   mean unbiased student distribution (R); Tsoft^2 * mean_c KL(R'_c || R_c).
 *   Class means are one matrix product with the count-normalised indicator.
 * - Sharp (pixel level): KL(softmax(z'/Tsharp) || q) on pixels whose target
 *   is an old class, q the unbiased student at temperature 1.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { add, matmul, scale } from "../../autograd/basic.ts";
import { klDivergence } from "../../autograd/losses.ts";
import { constant, type GpuScoped, type Node, record } from "../../autograd/tape.ts";
import { Gpu } from "../../gpu/device.ts";
import type { GpuError } from "../../gpu/errors.ts";
import { binary, unary } from "../../ops/elementwise.ts";
import { full } from "../../ops/core.ts";
import { matmul as matmulOp } from "../../ops/matmul.ts";
import { softmax } from "../../ops/softmax.ts";
import { empty, reshape, type Tensor } from "../../tensor/tensor.ts";
import { meanPixelLoss } from "../losses/pixel_loss.ts";
import { classCountsKernel, classOnehotKernel, unbiasedSoftmaxKernel } from "./kernels.ts";

/** Options of {@link ssrdLoss}. */
export interface SsrdOptions {
  readonly tSoft: number;
  readonly tSharp: number;
  readonly lambdaSoft: number;
  readonly lambdaSharp: number;
}

/**
 * The unbiased student distribution q [P, old] of `logits` [..., C] at
 * temperature `t`: background = the union of {0} and the new classes.
 */
export const unbiasedSoftmax = (logits: Node, old: number, t: number): GpuScoped<Node> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const channels = logits.value.shape[logits.value.shape.length - 1];
    const pixels = logits.value.elements / channels;
    const values = { pixels, channels, old, temperature: t };
    const q = yield* empty([pixels, old], "f32");
    const dummyG = yield* full([1], 0, "f32");
    const dummyDz = yield* full([1], 0, "f32");
    yield* gpu.recorder.dispatch(
      unbiasedSoftmaxKernel,
      { z: logits.value, q, g: dummyG, dz: dummyDz },
      values,
      {
        BACKWARD: 0,
      },
    );
    return record(q, [logits], (g) =>
      Effect.gen(function* () {
        const dz = yield* empty(logits.value.shape, "f32");
        yield* gpu.recorder.dispatch(unbiasedSoftmaxKernel, { z: logits.value, q, g, dz }, values, {
          BACKWARD: 1,
        });
        return [dz];
      }), "unbiasedSoftmax");
  });

/** log(x) as a node (the gradient is g / x). */
export const logNode = (x: Node): GpuScoped<Node> =>
  Effect.gen(function* () {
    const value = yield* unary("log", x.value);
    return record(value, [x], (g) => Effect.map(binary("div", g, x.value), (d) => [d]), "log");
  });

/** Per-class pixel counts [classes] and presence mask [classes] of `targets`. */
export const classCounts = (
  targets: Tensor<"i32">,
  classes: number,
): Effect.Effect<{ counts: Tensor<"f32">; present: Tensor<"f32"> }, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const counts = yield* empty([classes], "f32");
    const present = yield* empty([classes], "f32");
    yield* gpu.recorder.dispatch(classCountsKernel, { targets, counts, present }, {
      pixels: targets.elements,
      classes,
    });
    return { counts, present };
  });

/** The soft (class-relation) term before its weight: Tsoft^2 * mean_c KL(R'_c || R_c). */
export const ssrdSoft = (
  newLogits: Node,
  oldLogits: Tensor<"f32">,
  targets: Tensor<"i32">,
  old: number,
  tSoft: number,
): GpuScoped<Node> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const pixels = targets.elements;
    const { counts, present } = yield* classCounts(targets, old);
    const means = yield* empty([old, pixels], "f32");
    yield* gpu.recorder.dispatch(classOnehotKernel, { targets, counts, onehot: means }, {
      pixels,
      classes: old,
    }, { NORMALISE: 1 });
    const teacher = reshape(yield* softmax(oldLogits, { temperature: tSoft }), [pixels, old]);
    const relationsOld = yield* matmulOp(means, teacher, { m: old, n: old, k: pixels });
    const student = yield* unbiasedSoftmax(newLogits, old, tSoft);
    const relations = yield* matmul(constant(means), student);
    // Absent classes have all-zero rows; the mask leaves them out, the floor keeps log finite.
    const floor = yield* full([1], 1e-12, "f32");
    const floored = yield* binaryNode("max", relations, floor);
    const logRelations = yield* logNode(floored);
    const kl = yield* klDivergence(constant(relationsOld), logRelations, {
      teacher: "probs",
      student: "logProbs",
      mask: present,
    });
    return yield* scale(kl, tSoft * tSoft);
  });

/** max(a, b) with b broadcast periodically; the gradient flows to `a` where a > b. */
const binaryNode = (op: "max", a: Node, b: Tensor<"f32">): GpuScoped<Node> =>
  Effect.gen(function* () {
    const value = yield* binary(op, a.value, b);
    return record(value, [a], (g) =>
      Effect.gen(function* () {
        const margin = yield* binary("sub", a.value, b);
        return [yield* binary("passWherePositive", g, margin)];
      }), op);
  });

/** The sharp (pixel) term before its weight: KL(softmax(z'/Tsharp) || q) on old-class pixels. */
export const ssrdSharp = (
  newLogits: Node,
  oldLogits: Tensor<"f32">,
  targets: Tensor<"i32">,
  old: number,
  tSharp: number,
): GpuScoped<Node> =>
  meanPixelLoss("unbiasedKl", newLogits, {
    teacher: oldLogits,
    labels: targets,
    old,
    teacherScale: 1 / tSharp,
  });

/**
 * SSRD: lambdaSoft * soft + lambdaSharp * sharp, with both parts for
 * logging. `newClassesStart` is |C_{0:t-1}| (the first new class index).
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
    if (newClassesStart !== oldClasses) {
      return yield* Effect.die(new RangeError("new classes must follow the old ones"));
    }
    const soft = yield* ssrdSoft(newLogits, oldLogits, targets, oldClasses, options.tSoft);
    const sharp = yield* ssrdSharp(newLogits, oldLogits, targets, oldClasses, options.tSharp);
    const loss = yield* add(
      yield* scale(soft, options.lambdaSoft),
      yield* scale(sharp, options.lambdaSharp),
    );
    return { loss, soft, sharp };
  });
