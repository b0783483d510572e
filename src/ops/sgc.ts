/**
 * Step-aware gradient compensation (docs/gsc.md §2), in HFC's refined form:
 * the gain v = log(1 + g^zeta), g = 1 - p(target), divided by its mean over
 * the pixel's old-step group (one group per introducing step, over the
 * pixels the pseudo-label filter kept), clamped; current-step pixels keep
 * 1. The group sums of v and the group counts come from the deterministic
 * segmented sum; one kernel then normalises, clamps and multiplies by the
 * pixel's base weight (PLOP's adaptive factor). The weights go to
 * `crossEntropy(logits, targets, { weights })`, which scales each pixel's
 * gradient: that is the re-weighted backward pass.
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
import gainsSource from "../../shaders/sgc/gains.wgsl" with { type: "text" };
import valueGainsSource from "../../shaders/sgc/value_gains.wgsl" with { type: "text" };

const WG = 64;

const inputs = {
  logits: { access: "read", type: "f32" },
  targets: { access: "read", type: "i32" },
  class_step: { access: "read", type: "i32" },
} as const;

/** Group sums of log(1 + g^zeta) and group counts per old step. */
export const sgcGroupSumKernel = segmentSumKernel(
  "sgc",
  rowLseWgsl("logits") + gainSource + valueSource,
  inputs,
);

/** The normalised, optionally clipped weights. */
export const sgcWeightsKernel = defineKernel({
  name: "shaders/sgc/weights.wgsl",
  source: rowLseWgsl("logits") + gainSource +
    "fn pixel_gain(p: u32) -> f32 { return gain_power(p); }\n" + weightsSource,
  bindings: {
    ...inputs,
    sums: { access: "read", type: "f32" },
    counts: { access: "read", type: "u32" },
    base: { access: "read", type: "f32" },
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
    base: pixels,
    weights: pixels,
  }),
});

/** Every pixel's gain log(1 + g^zeta) (0 off the old steps' groups), computed once. */
export const sgcGainsKernel = defineKernel({
  name: "shaders/sgc/gains.wgsl",
  source: rowLseWgsl("logits") + gainSource + gainsSource,
  bindings: { ...inputs, gains: { access: "read_write", type: "f32" } },
  params: { pixels: "u32", channels: "u32", step: "u32", scale: "f32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ pixels }) => linearGrid(pixels, WG),
  minElements: ({ pixels, channels }) => ({
    logits: pixels * channels,
    targets: pixels,
    class_step: channels,
    gains: pixels,
  }),
});

/** {@link sgcGroupSumKernel} reading the precomputed gains. */
export const sgcGainsGroupSumKernel = segmentSumKernel(
  "sgc_gains",
  rowLseWgsl("logits") + gainSource + valueGainsSource,
  { ...inputs, gains: { access: "read", type: "f32" } },
);

/** {@link sgcWeightsKernel} reading the precomputed gains. */
export const sgcGainsWeightsKernel = defineKernel({
  ...sgcWeightsKernel,
  name: "shaders/sgc/weights.wgsl<gains>",
  source: rowLseWgsl("logits") + gainSource +
    "fn pixel_gain(p: u32) -> f32 { return gains[p]; }\n" + weightsSource,
  bindings: { ...sgcWeightsKernel.bindings, gains: { access: "read", type: "f32" } },
  minElements: (p) => ({ ...sgcWeightsKernel.minElements(p, { CLIP: 1 }), gains: p.pixels }),
});

let precomputedGains = true;

/**
 * Whether the gains are computed once per pixel (default on) instead of in
 * the group sums and again in the weights kernel; bit-identical. Returns the
 * previous setting; tests switch it off to compare.
 */
export const setSgcPrecomputedGains = (on: boolean): boolean => {
  const previous = precomputedGains;
  precomputedGains = on;
  return previous;
};

/** Options of {@link sgcWeights}. */
export interface SgcOptions {
  /** The current step t; pixels of classes from steps 0..t-1 are re-weighted. */
  readonly step: number;
  /** zeta_t = |C_{0:t-1}| / |C_{0:t}| (> 0). */
  readonly zeta: number;
  /** Clamping range of the normalised gain, HFC's [0.5, 1.2] by default in the CLI. */
  readonly min: number;
  readonly max: number;
  /** Clamp into [min, max] (default true; false is for tests of the unclamped mean). */
  readonly clip?: boolean;
}

/**
 * SGC weights [N, H, W] for `logits` [N, H, W, C] and `targets` [N, H, W]
 * (255 = ignore); `classStep` [C] holds the step that introduced each class,
 * `base` [N, H, W] the weights SGC multiplies (1 when absent). Old-step
 * pixels get base * clamp(v / their group's mean); current-step pixels,
 * ignored pixels and every pixel at step 0 get base.
 */
export const sgcWeights = (
  logits: Tensor<"f32">,
  targets: Tensor<"i32">,
  classStep: Tensor<"i32">,
  options: SgcOptions,
  base?: Tensor<"f32">,
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const ones = base ?? (yield* full(targets.shape, 1, "f32"));
    if (options.step <= 0) return ones;
    const channels = logits.shape[logits.shape.length - 1] ?? 0;
    const pixels = targets.elements;
    if (
      channels === 0 || logits.elements !== pixels * channels ||
      classStep.elements < channels || ones.elements !== pixels
    ) {
      return yield* new BindingError({
        kernel: sgcWeightsKernel.name,
        binding: "logits",
        reason: `logits [${logits.shape}], targets [${targets.shape}] and classStep ` +
          `[${classStep.shape}] and base [${ones.shape}] do not agree`,
      });
    }
    const step = Math.floor(options.step);
    const extras = { channels, step, scale: options.zeta };
    const gpu = yield* Gpu;
    const weights = yield* empty(targets.shape, "f32");
    const weightParams = { pixels, ...extras, w_min: options.min, w_max: options.max };
    const clip = { CLIP: options.clip === false ? 0 : 1 };
    if (precomputedGains) {
      const gains = yield* empty(targets.shape, "f32");
      const sources = { logits, targets, class_step: classStep };
      yield* gpu.recorder.dispatch(sgcGainsKernel, { ...sources, gains }, { pixels, ...extras });
      const groups = yield* segmentedSum(
        sgcGainsGroupSumKernel,
        { ...sources, gains },
        { pixels, values: 1, segments: step },
        extras,
      );
      yield* gpu.recorder.dispatch(
        sgcGainsWeightsKernel,
        { ...sources, ...groups, gains, base: ones, weights },
        weightParams,
        clip,
      );
      return weights;
    }
    const groups = yield* segmentedSum(
      sgcGroupSumKernel,
      { logits, targets, class_step: classStep },
      { pixels, values: 1, segments: step },
      extras,
    );
    yield* gpu.recorder.dispatch(
      sgcWeightsKernel,
      { logits, targets, class_step: classStep, ...groups, base: ones, weights },
      weightParams,
      clip,
    );
    return weights;
  });

/** {@link sgcWeights} without the clamp and base: each old step's group then averages 1. */
export const sgcWeightsUnclipped = (
  logits: Tensor<"f32">,
  targets: Tensor<"i32">,
  classStep: Tensor<"i32">,
  options: Omit<SgcOptions, "clip" | "min" | "max">,
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  sgcWeights(logits, targets, classStep, { ...options, min: 0, max: 0, clip: false });
