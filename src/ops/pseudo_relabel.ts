/**
 * Prototypical pseudo re-labeling (docs/gsc.md §1): background pixels whose
 * old-model posterior and prototype similarity agree on an old class are
 * relabelled with it, uncertain ones become 255, background stays 0. The
 * fused score and its argmax are one kernel, one pass over the classes.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import { BindingError } from "../gpu/errors.ts";
import { defineKernel, linearGrid } from "../gpu/kernel.ts";
import type { GpuError } from "../gpu/errors.ts";
import { empty, type Tensor } from "../tensor/tensor.ts";
import source from "../../shaders/prototypes/pseudo_relabel.wgsl" with { type: "text" };

const WG = 64;

const kernelFor = (validType: "u32" | "i32") =>
  defineKernel({
    name: `shaders/prototypes/pseudo_relabel.wgsl<${validType}>`,
    source: `fn is_valid(c: u32) -> bool { return valid[c] != 0${
      validType === "u32" ? "u" : "i"
    }; }\n${source}`,
    bindings: {
      labels: { access: "read", type: "i32" },
      old_logits: { access: "read", type: "f32" },
      features: { access: "read", type: "f32" },
      prototypes: { access: "read", type: "f32" },
      valid: { access: "read", type: validType },
      targets: { access: "read_write", type: "i32" },
    },
    params: { pixels: "u32", old_classes: "u32", features: "u32", tau: "f32", theta: "f32" },
    workgroupSize: [WG, 1, 1],
    dispatch: ({ pixels }) => linearGrid(pixels, WG),
    minElements: ({ pixels, old_classes, features }) => ({
      labels: pixels,
      old_logits: pixels * old_classes,
      features: pixels * features,
      prototypes: old_classes * features,
      valid: old_classes,
      targets: pixels,
    }),
  });

/** The re-labeling kernel, one per dtype of the validity flags. */
export const pseudoRelabelKernels = { u32: kernelFor("u32"), i32: kernelFor("i32") };

/** Options of {@link pseudoRelabel}. */
export interface PprOptions {
  /** Temperature of the prototype softmax kappa (default 0.1 in the CLI). */
  readonly tau: number;
  /** Minimum fused score s to relabel a pixel with an old class (default 0.7). */
  readonly theta: number;
}

/**
 * The step's targets [N, H, W] from `labels` [N, H, W]: pixels labelled 0 get
 * the old class chosen by the old model's logits [N, H, W, Cold] and the
 * cosine of its features [N, H, W, F] (at label resolution) to `prototypes`
 * [Cold, F]; classes whose `prototypeValid` [Cold] flag is 0 are left out
 * (kappa 0). Every other label is kept.
 */
export const pseudoRelabel = (
  labels: Tensor<"i32">,
  oldLogits: Tensor<"f32">,
  oldFeatures: Tensor<"f32">,
  prototypes: Tensor<"f32">,
  prototypeValid: Tensor<"u32"> | Tensor<"i32">,
  options: PprOptions,
): Effect.Effect<Tensor<"i32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const kernel = pseudoRelabelKernels[prototypeValid.dtype];
    const pixels = labels.elements;
    const oldClasses = oldLogits.shape[oldLogits.shape.length - 1] ?? 0;
    const width = oldFeatures.shape[oldFeatures.shape.length - 1] ?? 0;
    if (
      oldLogits.elements !== pixels * oldClasses || oldFeatures.elements !== pixels * width ||
      prototypes.elements < oldClasses * width || prototypeValid.elements < oldClasses ||
      !(options.tau > 0)
    ) {
      return yield* new BindingError({
        kernel: kernel.name,
        binding: "prototypes",
        reason: `labels [${labels.shape}], old logits [${oldLogits.shape}], features ` +
          `[${oldFeatures.shape}], prototypes [${prototypes.shape}], valid ` +
          `[${prototypeValid.shape}] and tau ${options.tau} do not agree`,
      });
    }
    const gpu = yield* Gpu;
    const targets = yield* empty(labels.shape, "i32");
    yield* gpu.recorder.dispatch(
      kernel,
      {
        labels,
        old_logits: oldLogits,
        features: oldFeatures,
        prototypes,
        valid: prototypeValid,
        targets,
      },
      { pixels, old_classes: oldClasses, features: width, tau: options.tau, theta: options.theta },
    );
    return targets;
  });
