/**
 * Class prototypes for GSC's pseudo re-labeling (docs/gsc.md §1): per class,
 * the L2-normalised mean of the L2-normalised features of its target pixels.
 * Sums and counts accumulate over batches with the deterministic segmented
 * sum; `finalizePrototypes` turns them into prototypes, keeping a class's
 * previous prototype when it has fewer than `minPixels` pixels.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import { BindingError } from "../gpu/errors.ts";
import { defineKernel } from "../gpu/kernel.ts";
import type { GpuError } from "../gpu/errors.ts";
import { l2Normalize } from "./distance.ts";
import { empty, type Tensor } from "../tensor/tensor.ts";
import { quadTileFits, segmentedSum, segmentSumKernel, segmentSumQuadKernel } from "./segments.ts";
import segmentSource from "../../shaders/prototypes/segment.wgsl" with { type: "text" };
import valueSource from "../../shaders/prototypes/value.wgsl" with { type: "text" };
import valueVec4Source from "../../shaders/prototypes/value_vec4.wgsl" with { type: "text" };
import finalizeSource from "../../shaders/prototypes/finalize.wgsl" with { type: "text" };

const WG = 64;

/** Segmented sum of normalised features per target class. */
export const prototypeSumKernel = segmentSumKernel("prototypes", segmentSource + valueSource, {
  features: { access: "read", type: "f32" },
  targets: { access: "read", type: "i32" },
});

/**
 * {@link prototypeSumKernel} a quad of features an invocation (features a
 * multiple of 4): the same partials, bit for bit, a quarter of the loads.
 */
export const prototypeSumQuadKernel = segmentSumQuadKernel(
  "prototypes",
  segmentSource + valueVec4Source,
  { features: { access: "read", type: "vec4f" }, targets: { access: "read", type: "i32" } },
);

let featureQuads = true;

/**
 * Whether the quad kernel is taken where it applies (default on); returns
 * the previous setting. Tests switch it off to compare the two kernels.
 */
export const setPrototypeQuads = (on: boolean): boolean => {
  const previous = featureQuads;
  featureQuads = on;
  return previous;
};

const finalizeKernelFor = (countType: "u32" | "f32") =>
  defineKernel({
    name: `shaders/prototypes/finalize.wgsl<${countType}>`,
    source: `fn count_of(c: u32) -> u32 { return u32(counts[c]); }\n${finalizeSource}`,
    bindings: {
      sums: { access: "read", type: "f32" },
      counts: { access: "read", type: countType },
      previous: { access: "read", type: "f32" },
      previous_valid: { access: "read", type: "u32" },
      prototypes: { access: "read_write", type: "f32" },
      valid: { access: "read_write", type: "u32" },
    },
    params: { classes: "u32", features: "u32", previous_classes: "u32", min_pixels: "u32" },
    workgroupSize: [WG, 1, 1],
    dispatch: ({ classes }) => [Math.max(1, Math.ceil(classes / WG)), 1, 1],
    minElements: ({ classes, features, previous_classes }) => ({
      sums: classes * features,
      counts: classes,
      previous: previous_classes * features,
      previous_valid: previous_classes,
      prototypes: classes * features,
      valid: classes,
    }),
  });

/** Prototypes and validity from the sums and counts (u32 or f32), the previous ones as fallback. */
export const finalizePrototypesKernels = {
  u32: finalizeKernelFor("u32"),
  f32: finalizeKernelFor("f32"),
};

/** Prototypes [C, F] (L2-normalised rows) and their validity [C] (1 valid, 0 not). */
export interface PrototypeSet {
  readonly prototypes: Tensor<"f32">;
  readonly valid: Tensor<"u32">;
}

/**
 * Adds the L2-normalised `features` [N, H, W, F] of every pixel to `sums`
 * [C, F] at its target class (`targets` [N, H, W]; 255 and other labels
 * outside [0, C) are skipped) and counts it in `counts` [C] (u32, or f32:
 * exact below 2^24 pixels a class).
 */
export const accumulatePrototypes = (
  features: Tensor<"f32">,
  targets: Tensor<"i32">,
  sums: Tensor<"f32">,
  counts: Tensor<"u32"> | Tensor<"f32">,
): Effect.Effect<void, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const width = features.shape[features.shape.length - 1] ?? 0;
    const classes = counts.elements;
    const pixels = targets.elements;
    if (width === 0 || features.elements !== pixels * width || sums.elements !== classes * width) {
      return yield* new BindingError({
        kernel: prototypeSumKernel.name,
        binding: "features",
        reason: `features [${features.shape}], targets [${targets.shape}], sums [${sums.shape}] ` +
          `and counts [${counts.shape}] do not agree`,
      });
    }
    const normalized = yield* l2Normalize(features);
    const inputs = { features: normalized, targets };
    const sizes = { pixels, values: width, segments: classes };
    const into = { sums, counts: counts as Tensor<"u32">, accumulate: true };
    yield* featureQuads && quadTileFits(classes, width)
      ? segmentedSum(prototypeSumQuadKernel, inputs, sizes, {}, into)
      : segmentedSum(prototypeSumKernel, inputs, sizes, {}, into);
  });

/**
 * Prototypes from accumulated `sums` [C, F] and `counts` [C]: a class with at
 * least `minPixels` pixels (and at least one) gets its L2-normalised mean and
 * is valid; any other class keeps `previous` (its row and validity; classes
 * beyond the previous set get zeros and are invalid).
 */
export const finalizePrototypes = (
  sums: Tensor<"f32">,
  counts: Tensor<"u32"> | Tensor<"f32">,
  previous: PrototypeSet | undefined,
  minPixels: number,
): Effect.Effect<PrototypeSet, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const classes = counts.elements;
    const width = classes === 0 ? 0 : sums.elements / classes;
    const previousClasses = previous?.valid.elements ?? 0;
    if (
      !Number.isInteger(width) ||
      (previous && previous.prototypes.elements !== previousClasses * width)
    ) {
      return yield* new BindingError({
        kernel: "finalizePrototypes",
        binding: "previous",
        reason: `sums [${sums.shape}], counts [${counts.shape}] and the previous prototypes ` +
          `[${previous?.prototypes.shape ?? []}] do not agree`,
      });
    }
    const gpu = yield* Gpu;
    const prototypes = yield* empty([classes, width], "f32");
    const valid = yield* empty([classes], "u32");
    // Without previous prototypes placeholders fill the slots; nothing reads them.
    const noValid = previous ? undefined : yield* empty([1], "u32");
    yield* gpu.recorder.dispatch(
      finalizePrototypesKernels[counts.dtype],
      {
        sums,
        counts: counts as Tensor<"u32">,
        previous: previous?.prototypes ?? sums,
        previous_valid: previous?.valid ?? noValid!,
        prototypes,
        valid,
      },
      {
        classes,
        features: width,
        previous_classes: previousClasses,
        min_pixels: Math.max(0, Math.floor(minPixels)),
      },
    );
    return { prototypes, valid };
  });
