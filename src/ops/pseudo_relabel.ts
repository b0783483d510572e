/**
 * Prototypical pseudo re-labeling (docs/gsc.md §1): the old model's logits
 * corrected by the class prototypes, a_ic = z'_ic + cos(h'_i, eta_c) / tau,
 * so that softmax(a_i) = p'_i kappa_i / sum_c p'_ic kappa_ic with kappa_i =
 * softmax(cos(h'_i, eta) / tau). PLOP's entropy pseudo labels (its median
 * thresholds and its filter, background included) then run on these logits
 * in place of the old ones (`ops/pseudo_labels.ts`), so PPR changes only the
 * posterior the pseudo labels come from.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import { BindingError } from "../gpu/errors.ts";
import { defineKernel, linearGrid, type ReadVia, viaSuffix } from "../gpu/kernel.ts";
import type { GpuError } from "../gpu/errors.ts";
import { empty, type Tensor } from "../tensor/tensor.ts";
import { readThroughTexturesWithoutAvx512 } from "./texture_reads.ts";
import source from "../../shaders/prototypes/pseudo_relabel.wgsl" with { type: "text" };
import vec4Source from "../../shaders/prototypes/pseudo_relabel_vec4.wgsl" with { type: "text" };

const WG = 64;

/**
 * What the scalar and vec4 kernels share; `quads` binds features and
 * prototypes as vec4, read through `load_features` / `load_prototypes` as
 * `via` says (the scalar kernel indexes its buffers).
 */
const common = (validType: "u32" | "i32", quads: boolean, via: ReadVia = "buffer") => {
  const rows = quads ? { type: "vec4f", via } as const : { type: "f32" } as const;
  return {
    source: `fn is_valid(c: u32) -> bool { return valid[c] != 0${
      validType === "u32" ? "u" : "i"
    }; }\n${quads ? vec4Source : source}`,
    bindings: {
      old_logits: { access: "read", type: "f32" },
      features: { access: "read", ...rows },
      prototypes: { access: "read", ...rows },
      valid: { access: "read", type: validType },
      corrected: { access: "read_write", type: "f32" },
    },
    params: { pixels: "u32", old_classes: "u32", features: "u32", tau: "f32" },
    workgroupSize: [WG, 1, 1],
    dispatch: ({ pixels }: { pixels: number }) => linearGrid(pixels, WG),
    minElements: (
      { pixels, old_classes, features }: { pixels: number; old_classes: number; features: number },
    ) => ({
      old_logits: pixels * old_classes,
      features: pixels * features,
      prototypes: old_classes * features,
      valid: old_classes,
      corrected: pixels * old_classes,
    }),
  } as const;
};

const kernelFor = (validType: "u32" | "i32") =>
  defineKernel({
    name: `shaders/prototypes/pseudo_relabel.wgsl<${validType}>`,
    ...common(validType, false),
  });

/** The correction kernel, one per dtype of the validity flags. */
export const pseudoRelabelKernels = { u32: kernelFor("u32"), i32: kernelFor("i32") };

/** Most feature quads the vec4 kernel holds in registers (256 features). */
const MAX_FEATURE_QUADS = 64;

const vec4KernelFor = (validType: "u32" | "i32", via: ReadVia) =>
  defineKernel({
    name: `shaders/prototypes/pseudo_relabel_vec4.wgsl<${validType}>${viaSuffix(via)}`,
    ...common(validType, true, via),
    constants: { FEATURE_QUADS: "u32", PIXELS: "u32" },
    dispatch: ({ pixels }: { pixels: number }, { PIXELS }: { PIXELS: number }) =>
      linearGrid(Math.ceil(pixels / PIXELS), WG),
  });

/**
 * The vec4 correction kernel (features a multiple of 4, at most 256): the
 * scalar kernel's sums in its order, bit-identical, a quarter of the loads.
 */
export const pseudoRelabelVec4Kernels = {
  u32: vec4KernelFor("u32", "buffer"),
  i32: vec4KernelFor("i32", "buffer"),
};

/** {@link pseudoRelabelVec4Kernels} reading features and prototypes from texture copies. */
export const pseudoRelabelVec4TextureKernels = {
  u32: vec4KernelFor("u32", "texture"),
  i32: vec4KernelFor("i32", "texture"),
};

let featureQuads = true;
let forcedPixels: number | undefined;

/**
 * Pixels an invocation of the vec4 kernel corrects. On a CPU adapter a
 * prototype quad loaded once serves several pixels: llvmpipe loads it with a
 * gather in every SIMD lane, two thirds of the kernel's time at one pixel an
 * invocation (`bench/gsc_kernels.ts` times both; README, Benchmarks). 8
 * pixels up to 16 feature quads, fewer as the features (held in registers for
 * every pixel) widen. A GPU keeps one.
 */
export const relabelPixels = (isFallback: boolean, featureQuads: number): number =>
  forcedPixels ?? (isFallback ? Math.max(1, Math.min(8, Math.floor(128 / featureQuads))) : 1);

/**
 * Forces the pixels an invocation of the vec4 kernel corrects (undefined:
 * the adapter's rule, {@link relabelPixels}); returns the previous setting.
 * Tests use it to check that every count gives the same result.
 */
export const setRelabelPixels = (pixels: number | undefined): number | undefined => {
  const previous = forcedPixels;
  forcedPixels = pixels;
  return previous;
};

/**
 * Whether the vec4 kernel is taken where it applies (default on); returns
 * the previous setting. Tests switch it off to compare the two kernels.
 */
export const setRelabelQuads = (on: boolean): boolean => {
  const previous = featureQuads;
  featureQuads = on;
  return previous;
};

/** Options of {@link prototypeCorrectedLogits}. */
export interface PprOptions {
  /** Temperature of the prototype softmax kappa (> 0; 1 as FISS's `proto_temperature`). */
  readonly tau: number;
}

/**
 * The prototype-corrected old logits [N, H, W, Cold] from the old logits
 * [N, H, W, Cold], the old features at the same pixels [N, H, W, F] and the
 * prototypes [Cold or more, F] with their validity flags: a class whose flag
 * is 0 takes cos = 0.
 */
export const prototypeCorrectedLogits = (
  oldLogits: Tensor<"f32">,
  oldFeatures: Tensor<"f32">,
  prototypes: Tensor<"f32">,
  prototypeValid: Tensor<"u32"> | Tensor<"i32">,
  options: PprOptions,
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const kernel = pseudoRelabelKernels[prototypeValid.dtype];
    const oldClasses = oldLogits.shape[oldLogits.shape.length - 1] ?? 0;
    const pixels = oldClasses > 0 ? oldLogits.elements / oldClasses : 0;
    const width = oldFeatures.shape[oldFeatures.shape.length - 1] ?? 0;
    if (
      oldClasses < 1 || oldFeatures.elements !== pixels * width ||
      prototypes.elements < oldClasses * width || prototypeValid.elements < oldClasses ||
      !(options.tau > 0)
    ) {
      return yield* new BindingError({
        kernel: kernel.name,
        binding: "prototypes",
        reason: `old logits [${oldLogits.shape}], features [${oldFeatures.shape}], ` +
          `prototypes [${prototypes.shape}], valid [${prototypeValid.shape}] and tau ` +
          `${options.tau} do not agree`,
      });
    }
    const gpu = yield* Gpu;
    const corrected = yield* empty(oldLogits.shape, "f32");
    const bindings = {
      old_logits: oldLogits,
      features: oldFeatures,
      prototypes,
      valid: prototypeValid,
      corrected,
    };
    const params = { pixels, old_classes: oldClasses, features: width, tau: options.tau };
    const quads = width / 4;
    if (featureQuads && width % 4 === 0 && quads <= MAX_FEATURE_QUADS) {
      const textures = readThroughTexturesWithoutAvx512(
        gpu.adapter.isFallback,
        oldFeatures,
        prototypes,
      );
      const vec4 = (textures ? pseudoRelabelVec4TextureKernels : pseudoRelabelVec4Kernels)[
        prototypeValid.dtype
      ];
      yield* gpu.recorder.dispatch(vec4, bindings, params, {
        FEATURE_QUADS: quads,
        PIXELS: relabelPixels(gpu.adapter.isFallback, quads),
      });
    } else {
      yield* gpu.recorder.dispatch(kernel, bindings, params);
    }
    return corrected;
  });
