/**
 * Prototypical pseudo re-labeling (docs/gsc.md §1): background pixels whose
 * old-model posterior and prototype similarity agree on an old class are
 * relabelled with it; uncertain ones are ignored (255). One kernel.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../../gpu/device.ts";
import type { GpuError } from "../../gpu/errors.ts";
import { empty, type Tensor } from "../../tensor/tensor.ts";
import { pprKernel } from "./kernels.ts";

/** Options of {@link pseudoRelabel}. */
export interface PprOptions {
  /** Temperature of the prototype softmax. */
  readonly tau: number;
  /** Minimum fused score to relabel a pixel. */
  readonly theta: number;
}

/**
 * The re-labelled targets [N, H, W]: `labels` [N, H, W], the old model's
 * logits [N, H, W, old] and features at the label size [N, H, W, F],
 * prototypes [>= old, F] (L2-normalised) with `valid` [>= old] (u32 0/1).
 */
export const pseudoRelabel = (
  labels: Tensor<"i32">,
  oldLogits: Tensor<"f32">,
  oldFeatures: Tensor<"f32">,
  prototypes: Tensor<"f32">,
  valid: Tensor<"u32">,
  options: PprOptions,
): Effect.Effect<Tensor<"i32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const old = oldLogits.shape[oldLogits.shape.length - 1];
    const features = oldFeatures.shape[oldFeatures.shape.length - 1];
    const targets = yield* empty(labels.shape, "i32");
    yield* gpu.recorder.dispatch(pprKernel, {
      labels,
      old_logits: oldLogits,
      features: oldFeatures,
      prototypes,
      valid,
      targets,
    }, { pixels: labels.elements, old, features, tau: options.tau, theta: options.theta });
    return targets;
  });
