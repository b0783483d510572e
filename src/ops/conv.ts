/**
 * 2-D convolution on NHWC activations with HWIO filters: the forward pass,
 * the input gradient, the filter gradient and the bias gradient.
 *
 * Every kernel is an implicit GEMM with register tiling, picked from a menu
 * by shape:
 * - pointwise (1x1, stride 1, no padding, one group) with odd channels: a
 *   plain matmul (with channels in multiples of 4 the vec4 tile below is
 *   itself that matmul, and faster);
 * - depthwise (groups = C, C % 4 == 0): its own vec4 kernel;
 * - channels per group multiples of 4: 8 pixels x 8 channels per invocation
 *   from vec4 loads ("fits" variant without store checks when tiles divide);
 * - destination channels per group multiples of 4 (an RGB stem's forward):
 *   8 x 8 per invocation, scalar source loads, vec4 filter loads and stores;
 * - anything else: 4 x 4 per invocation with scalar loads and bounds checks.
 * The input gradient is the transposed convolution of dy with the filter
 * (read transposed per group in place, no copy), visiting input columns one
 * stride phase at a time; it takes the same menu, except that the scalar-source
 * tile's case goes to the 4 x 4 kernel.
 * The filter gradient is split-K (partial sums over chunks of output rows,
 * then a reduction pass) with the same menu: 8x8 or 8x16 vec4 tiles, 4x4 scalar
 * tiles, or 4 channels of one tap for depthwise. Given an `into` tensor, the
 * filter and bias gradients are added into it by their last pass.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import type { GpuError } from "../gpu/errors.ts";
import { envFlag } from "../util/env.ts";
import { readThroughTextures } from "./texture_reads.ts";
import { quadsOf, readUniform } from "./uniform_reads.ts";
import {
  empty,
  release,
  type Shape,
  slice,
  SLICE_ALIGNMENT_BYTES,
  type Tensor,
} from "../tensor/tensor.ts";
import { copyRegion, zeros } from "./core.ts";
import { type CentreTap, centreTapOnly } from "./conv_taps.ts";
import { axpyInto } from "./elementwise.ts";
import { CurrentSplitSums } from "./split_sum_batch.ts";
import { matmulInto } from "./matmul.ts";
import {
  CONV_TILE,
  convHalves,
  convTiledKernel,
  convWorkgroup,
  filterTiledBlocks,
  filterTiledKernel,
  tiledPassParams,
  useScalarTextures,
  useTextures,
  useTiled,
  useWide,
} from "./conv_tiled.ts";
import {
  biasPartialKernel,
  convGeneralKernel,
  convOut4Kernel,
  convOut4TextureKernel,
  convOut4UniformFilterKernels,
  convVec4Kernel,
  convVec4TextureKernel,
  convVec4UniformFilterKernels,
  depthwiseVec4Kernel,
  filterDepthwiseVec4Kernel,
  filterGeneralKernel,
  filterOut4Kernel,
  filterOut4TextureKernel,
  type FilterParams,
  filterVec4Kernel,
  filterVec4TextureKernel,
  passParams,
  type PassSide,
  sumSplitsKernel,
  sumSplitsVec4Kernel,
  sumSplitsVec4TextureKernel,
} from "./conv_kernels.ts";

import {
  checkShape,
  type Conv2dOptions,
  type ConvGeometry,
  convPath,
  geometry,
  isDepthwise,
} from "./conv_geometry.ts";

export {
  conv2dFlops,
  conv2dGeometry,
  type Conv2dOptions,
  type ConvGeometry,
  type ConvPath,
  convPath,
  isDepthwise,
  isPointwise,
  type PerAxis,
} from "./conv_geometry.ts";

/** Records one implicit-GEMM pass (forward when mode is 0, input gradient when 1). */
const recordPass = (
  g: ConvGeometry,
  mode: 0 | 1,
  src: Tensor<"f32">,
  weight: Tensor<"f32">,
  bias: Tensor<"f32"> | undefined,
  dst: Tensor<"f32">,
): Effect.Effect<void, GpuError, Gpu> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const input: PassSide = { h: g.inH, w: g.inW, c: g.inC, cg: g.inCg };
    const output: PassSide = { h: g.outH, w: g.outW, c: g.outC, cg: g.outCg };
    const [from, to] = mode === 0 ? [input, output] : [output, input];
    const bindings = { src, weight, bias: bias ?? weight, dst };
    const HAS_BIAS = bias ? 1 : 0;
    const path = convPath(g);
    if (path === "depthwise") {
      const p = passParams(g, from, to, mode, 8, 4);
      yield* gpu.recorder.dispatch(depthwiseVec4Kernel, bindings, p, {
        MODE: mode,
        HAS_BIAS,
        WG: convWorkgroup(gpu.adapter.isFallback, p.blocks),
      });
    } else if (path === "general" && to.cg % 4 === 0 && mode === 0) {
      const QUADS = useWide(gpu.adapter.isFallback) && to.cg % 16 === 0 ? 4 : 2;
      const p = passParams(g, from, to, mode, 8, 4 * QUADS);
      const constants = {
        MODE: mode,
        HAS_BIAS,
        QUADS,
        WG: convWorkgroup(gpu.adapter.isFallback, p.blocks),
      };
      if (readUniform(gpu.adapter.isFallback, weight)) {
        const via = useScalarTextures(gpu.adapter.isFallback, src) ? "texture" : "buffer";
        yield* gpu.recorder.dispatch(convOut4UniformFilterKernels[via], bindings, p, {
          ...constants,
          W_QUADS: quadsOf(weight),
        });
        return;
      }
      const kernel = useScalarTextures(gpu.adapter.isFallback, src, weight)
        ? convOut4TextureKernel
        : convOut4Kernel;
      yield* gpu.recorder.dispatch(kernel, bindings, p, constants);
    } else if (path === "general") {
      const p = passParams(g, from, to, mode, 4, 4);
      yield* gpu.recorder.dispatch(convGeneralKernel, bindings, p, {
        MODE: mode,
        HAS_BIAS,
        WG: convWorkgroup(gpu.adapter.isFallback, p.blocks),
      });
    } else if (useTiled(gpu.adapter.isFallback)) {
      const p = tiledPassParams(g, from, to, mode);
      yield* gpu.recorder.dispatch(convTiledKernel, bindings, p, { MODE: mode, HAS_BIAS });
    } else {
      // Rows of at most 4 columns a phase: blocks of 4 columns x 2 rows, not half-empty rows of 8.
      const pair = Math.ceil(to.w / (mode === 1 ? g.strideW : 1)) <= 4 && to.h > 1;
      const QUADS = useWide(gpu.adapter.isFallback) && to.cg % 16 === 0 ? 4 : 2;
      const channels = 4 * QUADS;
      const single = pair
        ? passParams(g, from, to, mode, 4, channels, 2)
        : passParams(g, from, to, mode, 8, channels);
      const HALVES = convHalves(gpu.adapter.isFallback, single.blocks, single.phases);
      const p = { ...single, blocks: single.col_blocks * Math.ceil(single.pixel_blocks / HALVES) };
      const FITS = !pair && (to.w / p.phases) % 8 === 0 && to.w % p.phases === 0 &&
        to.cg % channels === 0;
      const constants = {
        MODE: mode,
        FITS: FITS ? 1 : 0,
        HAS_BIAS,
        PAIR: pair ? 1 : 0,
        QUADS,
        HALVES,
        WG: convWorkgroup(gpu.adapter.isFallback, p.blocks),
      };
      if (readUniform(gpu.adapter.isFallback, weight)) {
        const via = useTextures(true, src) ? "texture" : "buffer";
        yield* gpu.recorder.dispatch(convVec4UniformFilterKernels[via], bindings, p, {
          ...constants,
          W_QUADS: quadsOf(weight),
        });
        return;
      }
      const textures = useTextures(gpu.adapter.isFallback, src, weight);
      yield* gpu.recorder.dispatch(
        textures ? convVec4TextureKernel : convVec4Kernel,
        bindings,
        p,
        constants,
      );
    }
  });

/** The first element of the centre tap's slice of an HWIO filter. */
const tapStart = (centre: CentreTap): number =>
  centre.tap * centre.filterShape[2] * centre.filterShape[3];

/** Whether the centre tap's slice of `filter` (a fresh one at offset 0 when undefined) can be a view. */
const tapAligned = (filter: Tensor<"f32"> | undefined, centre: CentreTap): boolean =>
  ((filter?.offset ?? 0) + tapStart(centre) * 4) % SLICE_ALIGNMENT_BYTES === 0;

/** The centre tap's [1, 1, Cin/groups, Cout] filter: a view of `w` when aligned, else a copy. */
const tapFilter = (
  w: Tensor<"f32">,
  centre: CentreTap,
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    if (tapAligned(w, centre)) return slice(w, tapStart(centre), centre.filterShape);
    const out = yield* empty(centre.filterShape, "f32");
    const cols = out.elements;
    yield* copyRegion(w, out, {
      rows: 1,
      cols,
      srcOffset: tapStart(centre),
      srcStride: 0,
      dstOffset: 0,
      dstStride: 0,
    });
    return out;
  });

/**
 * y = conv2d(x, w) + bias: x [N, H, W, Cin], w [KH, KW, Cin/groups, Cout],
 * bias [Cout] or undefined; returns y [N, Ho, Wo, Cout].
 */
export const conv2dForward = (
  x: Tensor<"f32">,
  w: Tensor<"f32">,
  bias: Tensor<"f32"> | undefined,
  options: Conv2dOptions = {},
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const g = yield* geometry(x.shape, w.shape, options);
    if (bias) yield* checkShape(bias, [g.outC], "bias");
    const centre = centreTapOnly(g);
    if (centre) return yield* conv2dForward(x, yield* tapFilter(w, centre), bias, centre.options);
    const y = yield* empty([g.batch, g.outH, g.outW, g.outC], "f32");
    if (convPath(g) === "pointwise") {
      yield* matmulInto(x, w, y, { m: g.batch * g.inH * g.inW, n: g.outC, k: g.inC });
      if (bias) yield* axpyInto(bias, y);
    } else {
      yield* recordPass(g, 0, x, w, bias, y);
    }
    return y;
  });

/**
 * The input gradient dx [N, H, W, Cin] of a convolution, from the output
 * gradient dy [N, Ho, Wo, Cout] and the filter w; `inputShape` is x's shape
 * (it is not implied by dy when the stride drops trailing rows).
 */
export const conv2dBackwardInput = (
  dy: Tensor<"f32">,
  w: Tensor<"f32">,
  inputShape: Shape,
  options: Conv2dOptions = {},
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const g = yield* geometry(inputShape, w.shape, options);
    yield* checkShape(dy, [g.batch, g.outH, g.outW, g.outC], "dy");
    const centre = centreTapOnly(g);
    if (centre) {
      return yield* conv2dBackwardInput(
        dy,
        yield* tapFilter(w, centre),
        inputShape,
        centre.options,
      );
    }
    const dx = yield* empty([g.batch, g.inH, g.inW, g.inC], "f32");
    const path = convPath(g);
    if (path === "pointwise") {
      const m = g.batch * g.inH * g.inW;
      yield* matmulInto(dy, w, dx, { m, n: g.inC, k: g.outC, transB: true });
    } else {
      // MODE 1 reads the filter transposed in place (depthwise: it is its own transpose).
      yield* recordPass(g, 1, dy, w, undefined, dx);
    }
    return dx;
  });

/** Invocations the split-K passes aim for: enough workgroups to keep every core busy. */
const TARGET_INVOCATIONS = 4096;
/**
 * The same on a CPU adapter (llvmpipe): a few threads are busy with far fewer
 * tiles, and every extra split adds partial sums to write and reduce. 2048
 * gave 1.02-1.10x on four of the five bench shapes (bench/filter_targets.ts,
 * 2-core AMD EPYC) but no change to the `small` step, and it reorders the
 * sums, which would change the results table's shared step 0s; kept at 1024.
 */
const CPU_TARGET_INVOCATIONS = 1024;
/** Upper bound on a partial-sums buffer (elements), well under the binding limit. */
const MAX_PARTIAL_ELEMENTS = 8 * 1024 * 1024;
/**
 * The filter gradient's split-K target on a GPU. A GPU keeps far more
 * invocations in flight than 4096: on an NVIDIA H200 a DeepLabV3-ResNet-101
 * step (batch 8, 512x512) took 2723 ms at 4096 (8 Mi partial elements),
 * 1862 at 65536 and 2047 at 262144 (16 Mi), in one run of
 * bench/filter_splits.ts.
 */
const GPU_FILTER_TARGET_INVOCATIONS = 65536;
/** The partial sums' cap that goes with it: 64 MiB, half the default binding limit. */
const GPU_FILTER_MAX_PARTIAL_ELEMENTS = 16 * 1024 * 1024;

/** Number of chunks to split a reduction of `length` into, for `tiles` output tiles. */
export const splitCount = (
  tiles: number,
  length: number,
  outputElements: number,
  target = TARGET_INVOCATIONS,
  maxPartialElements = MAX_PARTIAL_ELEMENTS,
): number => {
  const wanted = Math.ceil(target / Math.max(1, tiles));
  const byMemory = Math.max(1, Math.floor(maxPartialElements / outputElements));
  const splits = Math.max(1, Math.min(wanted, length, byMemory));
  // Equal chunks: the chunk size decides the split count actually used.
  return Math.ceil(length / Math.ceil(length / splits));
};

/**
 * The filter-gradient kernel of a geometry: depthwise; vec4 (channels per
 * group multiples of 4 on both sides); out4 (only the output side: an RGB
 * stem); general.
 */
export const filterKind = (g: ConvGeometry): "depthwise" | "vec4" | "out4" | "general" =>
  isDepthwise(g) ? "depthwise" : g.outCg % 4 !== 0 ? "general" : g.inCg % 4 === 0 ? "vec4" : "out4";

/**
 * How the filter gradient is tiled: blocks of input and output channels per
 * tap (8x8 vec4 tiles, 4x4 scalar; a depthwise tile is 4 channels of one tap,
 * spanning 4 groups) and the number of split-K chunks of output rows (1: the
 * kernel writes the gradient directly, no reduction pass). `cpu`: the
 * adapter is a CPU one (fewer splits; see {@link filterTuning}). `tiled`: the
 * vec4 kind on the workgroup-tiled kernel (64 x 64 channels a tile; see
 * conv_tiled.ts), where the adapter takes it.
 */
export const filterTiling = (
  g: ConvGeometry,
  cpu = false,
): { ciBlocks: number; coBlocks: number; splits: number; coQuads: number; tiled: boolean } => {
  const kind = filterKind(g);
  const target = cpu ? filterTuning.cpuTargetInvocations : filterTuning.targetInvocations;
  const maxPartial = cpu ? MAX_PARTIAL_ELEMENTS : filterTuning.maxPartialElements;
  if (kind === "vec4" && useTiled(cpu)) {
    // 64 x 64 channels of a tap a workgroup: a tile is CONV_TILE.invocations invocations.
    const { ciBlocks, coBlocks } = filterTiledBlocks(g);
    const tiles = g.kH * g.kW * ciBlocks * coBlocks * CONV_TILE.invocations;
    const splits = splitCount(
      tiles,
      g.batch * g.outH,
      g.kH * g.kW * g.inCg * g.outC,
      target,
      maxPartial,
    );
    return { ciBlocks, coBlocks, splits, coQuads: 0, tiled: true };
  }
  const depthwise = kind === "depthwise";
  const vec4 = kind === "vec4";
  const coQuads = filterTuning.coQuads(g);
  const coTile = vec4 || kind === "out4" ? 4 * coQuads : 4;
  const ciBlocks = depthwise ? 1 : Math.ceil(g.inCg / (vec4 ? 8 : 4));
  const coBlocks = depthwise ? g.outC / 4 : g.groups * Math.ceil(g.outCg / coTile);
  const taps = g.kH * g.kW;
  const splits = splitCount(
    taps * ciBlocks * coBlocks,
    g.batch * g.outH,
    taps * g.inCg * g.outC,
    target,
    maxPartial,
  );
  return { ciBlocks, coBlocks, splits, coQuads, tiled: false };
};

/** Tuning of the vec4 filter gradient; a benchmark may change it to compare variants. */
export const filterTuning = {
  /** Output-channel quads per tile (2: 8x8, 4: 8x16). */
  coQuads: (g: ConvGeometry): number => g.outCg % 16 === 0 ? 4 : 2,
  /** Invocations the split-K chunks aim for on a GPU. */
  targetInvocations: GPU_FILTER_TARGET_INVOCATIONS,
  /** The same on a CPU adapter. */
  cpuTargetInvocations: CPU_TARGET_INVOCATIONS,
  /** Upper bound on the partial sums' elements on a GPU (a CPU adapter keeps 8 Mi). */
  maxPartialElements: GPU_FILTER_MAX_PARTIAL_ELEMENTS,
  /**
   * The vec4 kernel takes several blocks of 8 input channels an invocation on
   * a CPU adapter (filter_vec4.wgsl CI_BLOCKS: 4 where the group has 4 blocks
   * or more, else 2; each dy quad loaded once for all) where the pass has at
   * least `stackedMinBlocks` blocks; the splits stay those of 8-channel
   * blocks, so the sums are the same. `GSC_FILTER_ONE_BLOCK=1` turns it off
   * for a process.
   */
  stackedOnCpu: !envFlag("GSC_FILTER_ONE_BLOCK"),
  /** The same on a GPU: off (the accumulators would spill there); `GSC_FILTER_STACKED=1` turns it on. */
  stackedOnGpu: envFlag("GSC_FILTER_STACKED"),
  /** Blocks (splits x taps x channel blocks) a pass needs before it stacks blocks. */
  stackedMinBlocks: 256,
  /** The most blocks an invocation stacks (1, 2 or 4; benchmarks compare them). */
  stackedMax: 4 as 1 | 2 | 4,
  /**
   * Taps of a filter row the RGB stem's filter gradient (filter_out4.wgsl
   * TAPS) takes an invocation: up to 4 on a CPU adapter, where they share
   * each pixel's dy loads (llvmpipe's loads, not its FMAs, decide the speed);
   * 1 on a GPU (four times the accumulators). Bit-identical either way.
   * `GSC_FILTER_ONE_TAP=1` turns it off for a process.
   */
  out4Taps: (isFallback: boolean, kW: number): number =>
    isFallback && filterTuning.out4TapsOnCpu ? Math.min(4, kW) : 1,
  /** Whether {@link filterTuning.out4Taps} may take more than one tap on a CPU adapter. */
  out4TapsOnCpu: !envFlag("GSC_FILTER_ONE_TAP"),
};

/**
 * filter_vec4.wgsl's CI_BLOCKS for a pass of `blocks` invocations of one
 * 8-channel block each, `ciBlocks` blocks a group.
 */
export const filterStacked = (isFallback: boolean, blocks: number, ciBlocks: number): 1 | 2 | 4 => {
  const on = isFallback ? filterTuning.stackedOnCpu : filterTuning.stackedOnGpu;
  if (!on || blocks < filterTuning.stackedMinBlocks) return 1;
  const most = filterTuning.stackedMax;
  return ciBlocks >= 4 && most >= 4 ? 4 : ciBlocks >= 2 && most >= 2 ? 2 : 1;
};

/**
 * Records the reduction of `splits` partial slices of `size` into `out`
 * (added to what `out` holds when `accumulate`).
 */
const sumSplits = (
  partial: Tensor<"f32">,
  out: Tensor<"f32">,
  size: number,
  splits: number,
  accumulate: boolean,
): Effect.Effect<void, GpuError, Gpu> =>
  Effect.flatMap(Gpu, (gpu) => {
    const p = { splits, accumulate: accumulate ? 1 : 0 };
    // Quads when the slices allow: a quarter of the loads, the same sums.
    const kernel = readThroughTextures(gpu.adapter.isFallback, partial)
      ? sumSplitsVec4TextureKernel
      : sumSplitsVec4Kernel;
    return size % 4 === 0
      ? gpu.recorder.dispatch(kernel, { partial, out }, { ...p, size: size / 4 })
      : gpu.recorder.dispatch(sumSplitsKernel, { partial, out }, { ...p, size });
  });

/**
 * Where a split-K gradient writes its `splits` partial slices of `size`, and
 * the effect that then reduces them into `out` (added to it when
 * `accumulate`). Inside a backward pass (`CurrentSplitSums`) a gradient added
 * into a parameter's slot gets a slice of the pass's arena and leaves the
 * reduction to the batch (src/ops/split_sum_batch.ts); otherwise a tensor of
 * its own, reduced at once and released.
 */
const splitPartials = (
  out: Tensor<"f32">,
  size: number,
  splits: number,
  accumulate: boolean,
): Effect.Effect<
  { partial: Tensor<"f32">; sum: Effect.Effect<void, GpuError, Gpu> },
  GpuError,
  Gpu | Scope.Scope
> =>
  Effect.gen(function* () {
    const batch = accumulate ? yield* CurrentSplitSums : undefined;
    const reserved = batch ? yield* batch.reserve(out, size, splits) : undefined;
    if (batch && reserved) {
      return {
        partial: reserved,
        sum: Effect.sync(() => batch.defer(reserved, out, size, splits)),
      };
    }
    const partial = yield* empty([splits, size], "f32");
    return {
      partial,
      sum: Effect.andThen(sumSplits(partial, out, size, splits, accumulate), release(partial)),
    };
  });

/**
 * The filter gradient dw [KH, KW, Cin/groups, Cout] of a convolution, from
 * its input x and output gradient dy; `filterShape` is w's shape. Given
 * `into` (a tensor of `filterShape`'s size), the gradient is added into it
 * (into = into + dw, rounded as that separate add would be) by the same
 * dispatches, and `into` is returned.
 */
export const conv2dBackwardFilter = (
  x: Tensor<"f32">,
  dy: Tensor<"f32">,
  filterShape: Shape,
  options: Conv2dOptions = {},
  into?: Tensor<"f32">,
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const g = yield* geometry(x.shape, filterShape, options);
    yield* checkShape(dy, [g.batch, g.outH, g.outW, g.outC], "dy");
    if (into) yield* checkShape(into, filterShape, "into");
    const centre = centreTapOnly(g);
    if (centre && tapAligned(into, centre)) {
      // The dead taps' gradient is zero: only the centre slice is written (or added into).
      const dw = into ?? (yield* zeros(filterShape));
      const tapInto = slice(dw, tapStart(centre), centre.filterShape);
      yield* conv2dBackwardFilter(x, dy, centre.filterShape, centre.options, tapInto);
      return dw;
    }
    const gpu = yield* Gpu;
    const dw = into ?? (yield* empty(filterShape, "f32"));
    const kind = filterKind(g);
    const { ciBlocks, coBlocks, splits, coQuads, tiled } = filterTiling(g, gpu.adapter.isFallback);
    const taps = g.kH * g.kW;
    const tapsSize = taps * g.inCg * g.outC;
    const rows = g.batch * g.outH;
    // The vec4 kernel stacks CI_BLOCKS channel blocks an invocation, the RGB
    // stem's takes TAPS taps of a filter row; the splits stay those of one each.
    const CI_BLOCKS = kind === "vec4" && !tiled
      ? filterStacked(gpu.adapter.isFallback, splits * taps * ciBlocks * coBlocks, ciBlocks)
      : 1;
    const TAPS = kind === "out4" ? filterTuning.out4Taps(gpu.adapter.isFallback, g.kW) : 1;
    const invocationCiBlocks = Math.ceil(ciBlocks / CI_BLOCKS);
    const p: FilterParams = {
      batch: g.batch,
      in_h: g.inH,
      in_w: g.inW,
      in_c: g.inC,
      out_h: g.outH,
      out_w: g.outW,
      out_c: g.outC,
      k_h: g.kH,
      k_w: g.kW,
      stride_h: g.strideH,
      stride_w: g.strideW,
      pad_h: g.padH,
      pad_w: g.padW,
      dil_h: g.dilH,
      dil_w: g.dilW,
      in_cg: g.inCg,
      out_cg: g.outCg,
      rows_per_split: Math.ceil(rows / splits),
      taps_size: tapsSize,
      ci_blocks: invocationCiBlocks,
      co_blocks: coBlocks,
      tap_width: TAPS,
      blocks: splits * g.kH * Math.ceil(g.kW / TAPS) * invocationCiBlocks * coBlocks,
      accumulate: splits === 1 && into ? 1 : 0,
    };
    const sources = { src: x, grad: dy };
    const WG = convWorkgroup(gpu.adapter.isFallback, p.blocks);
    const run = (partial: Tensor<"f32">) =>
      kind === "depthwise"
        ? gpu.recorder.dispatch(filterDepthwiseVec4Kernel, { ...sources, partial }, p, { WG })
        : tiled
        ? gpu.recorder.dispatch(filterTiledKernel, { ...sources, partial }, p)
        : kind === "vec4"
        ? gpu.recorder.dispatch(
          useTextures(gpu.adapter.isFallback, x, dy) ? filterVec4TextureKernel : filterVec4Kernel,
          { ...sources, partial },
          p,
          { CO_QUADS: coQuads, CI_BLOCKS, WG },
        )
        : kind === "out4"
        ? gpu.recorder.dispatch(
          useScalarTextures(gpu.adapter.isFallback, x, dy)
            ? filterOut4TextureKernel
            : filterOut4Kernel,
          { ...sources, partial },
          p,
          {
            CO_QUADS: coQuads,
            // A group of fewer than 4 input channels (an RGB stem) accumulates only those.
            CI_USED: Math.min(4, g.inCg),
            TAPS,
            WG,
          },
        )
        : gpu.recorder.dispatch(filterGeneralKernel, { ...sources, partial }, p, { WG });
    if (splits === 1) {
      yield* run(dw);
      return dw;
    }
    const { partial, sum } = yield* splitPartials(dw, tapsSize, splits, into !== undefined);
    yield* run(partial);
    yield* sum;
    return dw;
  });

/**
 * The bias gradient [C]: dy [..., C] summed over every pixel, in two passes.
 * Given `into` ([C]), the gradient is added into it (into = into + db, rounded
 * as that separate add would be) by the second pass, and `into` is returned.
 */
export const conv2dBackwardBias = (
  dy: Tensor<"f32">,
  into?: Tensor<"f32">,
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const channels = dy.shape[dy.shape.length - 1];
    const pixels = dy.elements / channels;
    if (into) yield* checkShape(into, [channels], "into");
    const db = into ?? (yield* empty([channels], "f32"));
    // At least 64 pixels a chunk: the reduction pass should stay the small one.
    const splits = Math.min(splitCount(channels, pixels, channels), Math.ceil(pixels / 64));
    const perSplit = Math.ceil(pixels / splits);
    const used = Math.ceil(pixels / perSplit);
    const { partial, sum } = yield* splitPartials(db, channels, used, into !== undefined);
    yield* gpu.recorder.dispatch(biasPartialKernel, { grad: dy, partial }, {
      pixels,
      channels,
      pixels_per_split: perSplit,
      splits: used,
    });
    yield* sum;
    return db;
  });
