/**
 * Step-aware gradient compensation (docs/gsc.md §2): per-pixel weights
 * that give every old step's pixels an equal share of the classification
 * gradient. Two kernels around a deterministic column reduction: g^zeta and
 * group indicators per pixel, group sums and counts, then the normalised,
 * clipped weights. The weights go to `crossEntropy(..., { weights })`,
 * which scales each pixel's gradient: the re-weighted backward pass.
 *
 * @module
 */
import { Effect } from "effect";
import { Gpu } from "../../gpu/device.ts";
import type { GpuError } from "../../gpu/errors.ts";
import { full } from "../../ops/core.ts";
import { maskedReduce } from "../../ops/masked.ts";
import { empty, type Tensor } from "../../tensor/tensor.ts";
import type { Scope } from "effect";
import { sgcTermsKernel, sgcWeightsKernel } from "./kernels.ts";

/** Options of {@link sgcWeights}. */
export interface SgcOptions {
  /** The current step t; old steps are 0..t-1. */
  readonly step: number;
  /** zeta_t = |C_{0:t-1}| / |C_{0:t}|. */
  readonly zeta: number;
  readonly min: number;
  readonly max: number;
  /** Skip the clipping (the property "weights average 1 per group" holds before it). */
  readonly clip?: boolean;
}

/**
 * SGC weights [N, H, W] for `logits` [N, H, W, C] and `targets` [N, H, W];
 * `classStep` [C] is the step that introduced each class. Current-step and
 * ignored pixels get 1; at step 0 every weight is 1.
 */
export const sgcWeights = (
  logits: Tensor<"f32">,
  targets: Tensor<"i32">,
  classStep: Tensor<"i32">,
  options: SgcOptions,
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    if (options.step === 0) return yield* full(targets.shape, 1, "f32");
    const gpu = yield* Gpu;
    const channels = logits.shape[logits.shape.length - 1];
    const pixels = targets.elements;
    const steps = options.step;
    const gz = yield* empty([pixels], "f32");
    const terms = yield* empty([pixels, 2 * steps], "f32");
    yield* gpu.recorder.dispatch(sgcTermsKernel, {
      z: logits,
      targets,
      step_of: classStep,
      gz,
      terms,
    }, {
      pixels,
      channels,
      steps,
      zeta: options.zeta,
    });
    const ones = yield* full([pixels], 1, "f32");
    const { value: totals } = yield* maskedReduce("sum", terms, ones);
    const weights = yield* empty(targets.shape, "f32");
    yield* gpu.recorder.dispatch(sgcWeightsKernel, {
      targets,
      step_of: classStep,
      gz,
      totals,
      weights,
    }, {
      pixels,
      channels,
      steps,
      w_min: options.min,
      w_max: options.max,
    }, { CLIP: options.clip === false ? 0 : 1 });
    return weights;
  });
