/**
 * A deterministic segmented sum over pixels, the reduction behind GSC's
 * per-step SGC statistics, SSRD's per-class mean distributions and the
 * prototypes: for each segment s and value j, the sum over the pixels p with
 * segment_of(p) = s of segment_value(p, j), and the pixel count of each
 * segment. f32 atomics do not exist in WGSL, and atomics would make the order
 * of additions (so the rounding) vary between runs: two fixed-order passes
 * (partials per chunk of pixels, then totals over chunks) keep it bit-exact.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import { BindingError, type GpuError } from "../gpu/errors.ts";
import { type BindingSpec, defineKernel, type Kernel } from "../gpu/kernel.ts";
import type { BufferView } from "../gpu/recorder.ts";
import { empty, type Tensor } from "../tensor/tensor.ts";
import sumSource from "../../shaders/segments/sum.wgsl" with { type: "text" };
import unitsF32Source from "../../shaders/segments/units_f32.wgsl" with { type: "text" };
import unitsVec4Source from "../../shaders/segments/units_vec4.wgsl" with { type: "text" };
import totalsSource from "../../shaders/segments/totals.wgsl" with { type: "text" };

/** Uniform parameters every segmented-sum kernel declares (each value function uses some). */
export const segmentParams = {
  pixels: "u32",
  values: "u32",
  chunk: "u32",
  channels: "u32",
  old_classes: "u32",
  new_start: "u32",
  step: "u32",
  scale: "f32",
} as const;

/** Values of {@link segmentParams} the value functions read (the rest is computed). */
export type SegmentExtras = {
  readonly channels?: number;
  readonly old_classes?: number;
  readonly new_start?: number;
  readonly step?: number;
  readonly scale?: number;
};

type SumKernel<B extends Record<string, BindingSpec>> = Kernel<
  B & { partials: { access: "read_write"; type: "f32" } },
  typeof segmentParams,
  { SEGMENTS: "u32"; FT: "u32" }
>;

/**
 * The stage-1 kernel over `inputs` (sum.wgsl), `unit` values an invocation
 * (1, or 4 with `segment_value4`): the kernel's name says the form.
 */
const sumKernelOf = <const B extends Record<string, BindingSpec>>(
  unit: 1 | 4,
  name: string,
  valueSource: string,
  inputs: B,
): SumKernel<B> =>
  defineKernel({
    name: `shaders/segments/sum.wgsl<${name}${unit === 4 ? ", vec4" : ""}>`,
    source: valueSource + (unit === 4 ? unitsVec4Source : unitsF32Source) + sumSource,
    bindings: { ...inputs, partials: { access: "read_write", type: "f32" } as const },
    params: segmentParams,
    constants: { SEGMENTS: "u32", FT: "u32" },
    workgroupSize: ({ FT }) => [FT / unit, 1, 1],
    dispatch: ({ pixels, values, chunk }, { FT }) => [
      Math.max(1, Math.ceil(values / FT)),
      Math.max(1, Math.ceil(pixels / chunk)),
      1,
    ],
  }) as unknown as SumKernel<B>;

/**
 * Declares the stage-1 kernel of a segmented sum: `valueSource` defines
 * `segment_of(p) -> i32` and `segment_value(p, j) -> f32` over `inputs`.
 */
export const segmentSumKernel = <const B extends Record<string, BindingSpec>>(
  name: string,
  valueSource: string,
  inputs: B,
): SumKernel<B> => sumKernelOf(1, name, valueSource, inputs);

/**
 * {@link segmentSumKernel} with an invocation a quad of values:
 * `valueSource` defines `segment_of` and `segment_value4(p, q) -> vec4<f32>`,
 * values 4q .. 4q + 3 of pixel p. Its partials are the scalar kernel's bit
 * for bit; callers take it where {@link quadTileFits}
 * (accumulatePrototypes, ops/prototypes.ts).
 */
export const segmentSumQuadKernel = <const B extends Record<string, BindingSpec>>(
  name: string,
  valueSource: string,
  inputs: B,
): SumKernel<B> => sumKernelOf(4, name, valueSource, inputs);

/** Whether the quad kernel applies: values in quads, a tile of at least one quad. */
export const quadTileFits = (segments: number, values: number): boolean =>
  values % 4 === 0 && tileFor(segments, values) >= 4;

const TOTALS_WG = 64;

const totalsKernelFor = (countType: "u32" | "f32") =>
  defineKernel({
    name: `shaders/segments/totals.wgsl<${countType}>`,
    source: `alias Count = ${countType};\n${totalsSource}`,
    bindings: {
      partials: { access: "read", type: "f32" },
      sums: { access: "read_write", type: "f32" },
      counts: { access: "read_write", type: countType },
    },
    params: { segments: "u32", values: "u32", chunks: "u32" },
    constants: { ACCUMULATE: "u32" },
    workgroupSize: [TOTALS_WG, 1, 1],
    dispatch: ({ segments, values }) => [Math.ceil((segments * (values + 1)) / TOTALS_WG), 1, 1],
    minElements: ({ segments, values, chunks }) => ({
      partials: chunks * segments * (values + 1),
      sums: segments * values,
      counts: segments,
    }),
  });

/**
 * Stage 2: totals over chunks into sums [S, values] and counts [S] (overwrite
 * or add), one kernel per count dtype (f32 counts are exact below 2^24).
 */
export const segmentTotalsKernels = { u32: totalsKernelFor("u32"), f32: totalsKernelFor("f32") };

// Workgroup memory held by the accumulator (half the 32 KiB llvmpipe offers).
const ACCUMULATOR_BYTES = 16 * 1024;
const PIXELS_PER_CHUNK = 512;
// Partials are chunks x segments x (values + 1) floats: allow at least 128
// chunks, more while they stay under 2^20 floats (few values: SGC's sums),
// so a large batch still spreads over many workgroups.
const PARTIAL_FLOATS = 1 << 20;
const MIN_CHUNK_LIMIT = 128;
const MAX_GROUPS_PER_DIM = 65535;

/** How many pixel chunks a segmented sum uses. */
export const chunkCountFor = (pixels: number, segments: number, values: number): number => {
  const limit = Math.min(
    MAX_GROUPS_PER_DIM,
    Math.max(MIN_CHUNK_LIMIT, Math.floor(PARTIAL_FLOATS / (segments * (values + 1)))),
  );
  return Math.min(limit, Math.max(1, Math.ceil(pixels / PIXELS_PER_CHUNK)));
};

/** Values per workgroup: a power of two, at most 64, that fits the accumulator. */
export const tileFor = (segments: number, values: number): number => {
  let tile = 64;
  while (tile > 1 && (tile >= 2 * values || (segments * (tile + 1)) * 4 > ACCUMULATOR_BYTES)) {
    tile /= 2;
  }
  return tile;
};

/** Where a segmented sum goes: fresh tensors, or existing ones to add into. */
export interface SegmentTargets<D extends "u32" | "f32" = "u32" | "f32"> {
  readonly sums: Tensor<"f32">;
  readonly counts: Tensor<D>;
  readonly accumulate: boolean;
}

/**
 * Runs a segmented sum of `kernel` over `pixels` pixels and `values` values
 * into `segments` segments. Writes into `into` (adding when it says so) or
 * into new tensors sums [segments, values] and counts [segments].
 */
export const segmentedSum = <
  B extends Record<string, BindingSpec>,
  D extends "u32" | "f32" = "u32",
>(
  kernel: SumKernel<B>,
  inputs: { readonly [K in keyof B]: BufferView },
  sizes: { readonly pixels: number; readonly values: number; readonly segments: number },
  extras: SegmentExtras = {},
  into?: SegmentTargets<D>,
): Effect.Effect<
  { sums: Tensor<"f32">; counts: Tensor<D> },
  GpuError,
  Gpu | Scope.Scope
> =>
  Effect.gen(function* () {
    const { pixels, values, segments } = sizes;
    const tile = tileFor(segments, values);
    if (segments * 4 * 2 > ACCUMULATOR_BYTES) {
      return yield* new BindingError({
        kernel: kernel.name,
        binding: "partials",
        reason: `${segments} segments exceed the workgroup accumulator`,
      });
    }
    const chunks = chunkCountFor(pixels, segments, values);
    const chunk = Math.max(1, Math.ceil(pixels / chunks));
    const usedChunks = Math.max(1, Math.ceil(pixels / chunk));
    const gpu = yield* Gpu;
    const partials = yield* empty([usedChunks, segments, values + 1], "f32");
    const sums = into?.sums ?? (yield* empty([segments, values], "f32"));
    const counts: Tensor<D> = into?.counts ?? (yield* empty([segments], "u32" as D));
    yield* gpu.recorder.dispatch(
      kernel,
      { ...inputs, partials } as never,
      {
        pixels,
        values,
        chunk,
        channels: extras.channels ?? 0,
        old_classes: extras.old_classes ?? 0,
        new_start: extras.new_start ?? 0,
        step: extras.step ?? 0,
        scale: extras.scale ?? 1,
      },
      { SEGMENTS: segments, FT: tile },
    );
    yield* gpu.recorder.dispatch(
      segmentTotalsKernels[counts.dtype as "u32" | "f32"],
      { partials, sums, counts } as never,
      { segments, values, chunks: usedChunks },
      { ACCUMULATE: into?.accumulate ? 1 : 0 },
    );
    return { sums, counts };
  });
