/**
 * The workgroup-tiled convolution for GPUs (shaders/conv/conv_tiled.wgsl):
 * 64 destination pixels x 64 destination channels per workgroup of 256
 * invocations, the source and filter tiles shared through workgroup memory.
 * It serves the forward pass and the input gradient of the vec4 path (channels
 * per group multiples of 4); shaders/conv/filter_tiled.wgsl does the same for
 * the filter gradient (64 x 64 channels of one tap a workgroup, split-K over
 * output rows as the register kernels). A CPU adapter keeps the register-tiled kernels:
 * llvmpipe runs a kernel with barriers as a coroutine per invocation.
 *
 * @module
 */
import { defineKernel, fitsTexture, linearGrid } from "../gpu/kernel.ts";
import tapsSource from "../../shaders/conv/taps.wgsl" with { type: "text" };
import tiledSource from "../../shaders/conv/conv_tiled.wgsl" with { type: "text" };
import filterTapsSource from "../../shaders/conv/filter_taps.wgsl" with { type: "text" };
import filterTiledSource from "../../shaders/conv/filter_tiled.wgsl" with { type: "text" };
import {
  CONV_WG,
  convBindings,
  convMinElements,
  convParams,
  filterBindings,
  filterMinElements,
  filterParams,
  passParams,
  type PassSide,
  SMALL_CONV_WG,
} from "./conv_kernels.ts";
import type { ConvGeometry } from "./conv_geometry.ts";
import { envFlag } from "../util/env.ts";
import { llvmpipeUsesAvx512 } from "../util/cpu.ts";

/** Destination pixels and channels of one workgroup's tile. */
export const CONV_TILE = { pixels: 64, channels: 64, invocations: 256 } as const;

/** The tiled kernel's parameters: the pass geometry plus its tile counts. */
const tiledParams = {
  ...convParams,
  pixels: "u32",
  cols: "u32",
  m_tiles: "u32",
  n_tiles: "u32",
} as const;

type TiledParams = { readonly [K in keyof typeof tiledParams]: number };

/** 64 pixels x 64 channels per workgroup through workgroup memory (channels per group % 4 == 0). */
export const convTiledKernel = defineKernel({
  name: "shaders/conv/conv_tiled.wgsl",
  source: tapsSource + tiledSource,
  bindings: convBindings("vec4f"),
  params: tiledParams,
  constants: { MODE: "u32", HAS_BIAS: "u32" },
  workgroupSize: [CONV_TILE.invocations, 1, 1],
  dispatch: (p) => linearGrid(p.m_tiles * p.n_tiles * CONV_TILE.invocations, CONV_TILE.invocations),
  minElements: convMinElements,
});

/**
 * Whether a pass takes the tiled kernel: on a GPU (not a fallback adapter)
 * when {@link convTuning} allows it, for the vec4 path only.
 */
export const convTuning = {
  /**
   * Off by default until measured on a GPU beside the register-tiled kernel
   * (bench/conv_tiled.ts); `GSC_CONV_TILED=1` turns it on for a process.
   */
  tiledOnGpu: envFlag("GSC_CONV_TILED"),
  /** Tests set it to run the tiled kernel on a CPU adapter too. */
  tiledOnCpu: false,
  /**
   * The register kernel's 16-channel blocks (where destination channels per
   * group are a multiple of 16) on a CPU adapter: on llvmpipe they cut the
   * loads a multiply-add by a quarter (bench/conv_blocks.ts); `GSC_CONV_NARROW=1`
   * turns it off for a process.
   */
  wideOnCpu: !envFlag("GSC_CONV_NARROW"),
  /**
   * The same on a GPU: off until measured there (twice the accumulator
   * registers can cost occupancy); `GSC_CONV_WIDE=1` turns it on.
   */
  wideOnGpu: envFlag("GSC_CONV_WIDE"),
  /**
   * The register kernel reads its source and filter from texture copies on a
   * CPU adapter: llvmpipe fetches texels with vector gathers but loads a
   * storage buffer lane by lane, which without AVX-512 costs about 5x
   * (bench/texture_loads.ts); the sums are the same. `GSC_CONV_BUFFERS=1`
   * turns it off for a process.
   */
  texturesOnCpu: !envFlag("GSC_CONV_BUFFERS"),
  /** The same on a GPU: off until measured there; `GSC_CONV_TEXTURES=1` turns it on. */
  texturesOnGpu: envFlag("GSC_CONV_TEXTURES"),
  /**
   * The RGB stem's kernels (`conv_out4`, `filter_out4`) read their source one
   * f32 at a time, a texel's component a load. Through textures that costs
   * more than lane-by-lane buffer loads where llvmpipe has AVX-512 code (the
   * stem's forward 8.6 against 4.6 ms in a `small` b8 64x64 step) and less
   * where it has AVX2 alone, so on a CPU adapter they take textures only
   * without AVX-512 (and with {@link convTuning.texturesOnCpu}).
   * `GSC_CONV_TEXTURES=1` turns them on everywhere.
   */
  scalarTexturesOnCpu: !envFlag("GSC_CONV_BUFFERS") &&
    (envFlag("GSC_CONV_TEXTURES") || !llvmpipeUsesAvx512()),
  /**
   * Workgroups of {@link SMALL_CONV_WG} instead of {@link CONV_WG} for a
   * convolution kernel's dispatch of fewer than {@link SMALL_DISPATCH_GROUPS}
   * workgroups of 64, on a CPU adapter: llvmpipe runs each workgroup on one
   * thread, so a `small` model's 4x4 and 8x8 maps (a workgroup or two of 64)
   * ran on one core. Each invocation computes the same outputs the same way
   * whatever its workgroup, so results are bit-identical.
   * `GSC_CONV_LARGE_GROUPS=1` turns it off for a process.
   */
  smallGroupsOnCpu: !envFlag("GSC_CONV_LARGE_GROUPS"),
  /** The same on a GPU: off until measured there; `GSC_CONV_SMALL_GROUPS=1` turns it on. */
  smallGroupsOnGpu: envFlag("GSC_CONV_SMALL_GROUPS"),
  /**
   * The register kernel computes two pixel blocks an invocation on a CPU
   * adapter (conv_vec4.wgsl HALVES = 2: each filter quad loaded once for
   * both), where the pass has at least `halvesMinBlocks` blocks: on
   * llvmpipe the gathers, not the FMAs, decide the speed. Bit-identical.
   * `GSC_CONV_ONE_BLOCK=1` turns it off for a process.
   */
  halvesOnCpu: !envFlag("GSC_CONV_ONE_BLOCK"),
  /** The same on a GPU: off (twice the accumulators would spill there); `GSC_CONV_HALVES=1` turns it on. */
  halvesOnGpu: envFlag("GSC_CONV_HALVES"),
  /** Blocks (pixel blocks x channel blocks) a pass needs before it takes two pixel blocks an invocation. */
  halvesMinBlocks: 256,
};

/**
 * conv_vec4.wgsl's HALVES for a pass of `blocks` invocations of one pixel
 * block each, over `phases` stride phases (a strided input gradient keeps one
 * block: 0.7x with two on llvmpipe).
 */
export const convHalves = (isFallback: boolean, blocks: number, phases: number): 1 | 2 =>
  (isFallback ? convTuning.halvesOnCpu : convTuning.halvesOnGpu) && phases === 1 &&
    blocks >= convTuning.halvesMinBlocks
    ? 2
    : 1;

/** Workgroups of 64 below which a CPU adapter's dispatch takes small workgroups (a few a core). */
export const SMALL_DISPATCH_GROUPS = 16;

/**
 * The workgroup size of a convolution kernel's dispatch of `invocations`
 * ({@link convTuning}.smallGroupsOnCpu).
 */
export const convWorkgroup = (isFallback: boolean, invocations: number): number =>
  (isFallback ? convTuning.smallGroupsOnCpu : convTuning.smallGroupsOnGpu) &&
    invocations < SMALL_DISPATCH_GROUPS * CONV_WG
    ? SMALL_CONV_WG
    : CONV_WG;

/**
 * Runs `fn` with `settings` merged into {@link convTuning} and restores the
 * tuning afterwards, so benchmarks and tests compare variants in one run.
 */
export const withConvTuning = async <A>(
  settings: Partial<typeof convTuning>,
  fn: () => Promise<A>,
): Promise<A> => {
  const saved = { ...convTuning };
  Object.assign(convTuning, settings);
  try {
    return await fn();
  } finally {
    Object.assign(convTuning, saved);
  }
};

/** Whether the register kernel takes 16-channel blocks where the channels allow it. */
export const useWide = (isFallback: boolean): boolean =>
  isFallback ? convTuning.wideOnCpu : convTuning.wideOnGpu;

/** Whether a convolution kernel reads these views through textures on this adapter. */
export const useTextures = (
  isFallback: boolean,
  ...views: readonly { readonly elements: number; readonly offset?: number }[]
): boolean =>
  (isFallback ? convTuning.texturesOnCpu : convTuning.texturesOnGpu) && views.every(fitsTexture);

/** Whether the RGB stem's scalar-source kernels read these views through textures on this adapter. */
export const useScalarTextures = (
  isFallback: boolean,
  ...views: readonly { readonly elements: number; readonly offset?: number }[]
): boolean =>
  (isFallback ? convTuning.scalarTexturesOnCpu : convTuning.texturesOnGpu) &&
  views.every(fitsTexture);

/** Whether the tiled kernel serves a vec4-path pass on this adapter. */
export const useTiled = (isFallback: boolean): boolean =>
  isFallback ? convTuning.tiledOnCpu : convTuning.tiledOnGpu;

/**
 * The tiled kernel's parameters for a pass from `src` to `dst` (MODE 1 visits
 * stride phases): the register kernels' pass geometry at one pixel a block,
 * whose column blocks are the 64-channel tiles.
 */
export const tiledPassParams = (
  g: ConvGeometry,
  src: PassSide,
  dst: PassSide,
  mode: 0 | 1,
): TiledParams => {
  const p = passParams(g, src, dst, mode, 1, CONV_TILE.channels);
  const pixels = g.batch * dst.h * p.phases * p.row_blocks;
  return {
    ...p,
    pixels,
    cols: p.row_blocks,
    m_tiles: Math.ceil(pixels / CONV_TILE.pixels),
    n_tiles: p.col_blocks,
  };
};

/** Split-K filter gradient, 64 x 64 channels of one tap a workgroup (channels per group % 4 == 0). */
export const filterTiledKernel = defineKernel({
  name: "shaders/conv/filter_tiled.wgsl",
  source: filterTapsSource + filterTiledSource,
  bindings: filterBindings("vec4f"),
  params: filterParams,
  workgroupSize: [CONV_TILE.invocations, 1, 1],
  dispatch: (p) => linearGrid(p.blocks * CONV_TILE.invocations, CONV_TILE.invocations),
  minElements: filterMinElements,
});

/** The tiled filter gradient's 64-channel tiles per tap: input-channel and output-channel blocks. */
export const filterTiledBlocks = (g: ConvGeometry): { ciBlocks: number; coBlocks: number } => ({
  ciBlocks: Math.ceil(g.inCg / CONV_TILE.channels),
  coBlocks: g.groups * Math.ceil(g.outCg / CONV_TILE.channels),
});
