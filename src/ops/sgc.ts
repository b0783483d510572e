/**
 * Step-aware gradient compensation (docs/gsc.md §2): per-pixel weights that
 * give every old step's pixels an equal share of the classification
 * gradient. The group sums of g^zeta and the group counts come from the
 * deterministic segmented sum; one kernel then normalises and clips. The
 * weights go to `crossEntropy(logits, targets, { weights })`, which scales
 * each pixel's gradient: that is the re-weighted backward pass.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import { BindingError } from "../gpu/errors.ts";
import { defineKernel, linearGrid } from "../gpu/kernel.ts";
import type { GpuError } from "../gpu/errors.ts";
import { full } from "./core.ts";
import { empty, type Tensor } from "../tensor/tensor.ts";
import { segmentedSum, segmentSumKernel } from "./segments.ts";
import { rowLseWgsl } from "./softmax.ts";
import gainSource from "../../shaders/sgc/gain.wgsl" with { type: "text" };
import valueSource from "../../shaders/sgc/value.wgsl" with { type: "text" };
import weightsSource from "../../shaders/sgc/weights.wgsl" with { type: "text" };

const WG = 64;

const inputs = {
  logits: { access: "read", type: "f32" },
  targets: { access: "read", type: "i32" },
  class_step: { access: "read", type: "i32" },
} as const;

/** Group sums of g^zeta and group counts per old step. */
export const sgcGroupSumKernel = segmentSumKernel(
  "sgc",
  rowLseWgsl("logits") + gainSource + valueSource,
  inputs,
);

/** The normalised, optionally clipped weights. */
export const sgcWeightsKernel = defineKernel({
  name: "shaders/sgc/weights.wgsl",
  source: rowLseWgsl("logits") + gainSource + weightsSource,
  bindings: {
    ...inputs,
    sums: { access: "read", type: "f32" },
    counts: { access: "read", type: "u32" },
    weights: { access: "read_write", type: "f32" },
  },
  params: {
    pixels: "u32",
    channels: "u32",
    step: "u32",
    scale: "f32",
    w_min: "f32",
    w_max: "f32",
  },
  constants: { CLIP: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ pixels }) => linearGrid(pixels, WG),
  minElements: ({ pixels, channels, step }) => ({
    logits: pixels * channels,
    targets: pixels,
    class_step: channels,
    sums: step,
    counts: step,
    weights: pixels,
  }),
});

/** Options of {@link sgcWeights}. */
export interface SgcOptions {
  /** The current step t; pixels of classes from steps 0..t-1 are re-weighted. */
  readonly step: number;
  /** zeta_t = |C_{0:t-1}| / |C_{0:t}| (> 0). */
  readonly zeta: number;
  /** Clipping range, [0.5, 2] by default in the CLI. */
  readonly min: number;
  readonly max: number;
  /** Clip into [min, max] (default true; false is for tests of the unclipped mean). */
  readonly clip?: boolean;
}

/**
 * SGC weights [N, H, W] for `logits` [N, H, W, C] and `targets` [N, H, W]
 * (255 = ignore); `classStep` [C] holds the step that introduced each class.
 * Old-step pixels get g^zeta / (their group's mean + 1e-6), clipped; current-
 * step pixels, ignored pixels and every pixel at step 0 get 1.
 */
export const sgcWeights = (
  logits: Tensor<"f32">,
  targets: Tensor<"i32">,
  classStep: Tensor<"i32">,
  options: SgcOptions,
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    if (options.step <= 0) return yield* full(targets.shape, 1, "f32");
    const channels = logits.shape[logits.shape.length - 1] ?? 0;
    const pixels = targets.elements;
    if (channels === 0 || logits.elements !== pixels * channels || classStep.elements < channels) {
      return yield* new BindingError({
        kernel: sgcWeightsKernel.name,
        binding: "logits",
        reason: `logits [${logits.shape}], targets [${targets.shape}] and classStep ` +
          `[${classStep.shape}] do not agree`,
      });
    }
    const step = Math.floor(options.step);
    const extras = { channels, step, scale: options.zeta };
    const groups = yield* segmentedSum(
      sgcGroupSumKernel,
      { logits, targets, class_step: classStep },
      { pixels, values: 1, segments: step },
      extras,
    );
    const weights = yield* empty(targets.shape, "f32");
    const gpu = yield* Gpu;
    yield* gpu.recorder.dispatch(
      sgcWeightsKernel,
      { logits, targets, class_step: classStep, ...groups, weights },
      { pixels, ...extras, w_min: options.min, w_max: options.max },
      { CLIP: options.clip === false ? 0 : 1 },
    );
    return weights;
  });

/** {@link sgcWeights} without the clipping: each old step's group then averages 1. */
export const sgcWeightsUnclipped = (
  logits: Tensor<"f32">,
  targets: Tensor<"i32">,
  classStep: Tensor<"i32">,
  options: Omit<SgcOptions, "clip" | "min" | "max">,
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  sgcWeights(logits, targets, classStep, { ...options, min: 0, max: 0, clip: false });
