/**
 * Kernel declarations of the convolution family (see src/ops/conv.ts for the
 * menu that picks among them).
 *
 * @module
 */
import { defineKernel, linearGrid, type ReadVia, viaSuffix } from "../gpu/kernel.ts";
import { type ConvGeometry, isDepthwise } from "./conv_geometry.ts";
import tapsSource from "../../shaders/conv/taps.wgsl" with { type: "text" };
import convVec4Source from "../../shaders/conv/conv_vec4.wgsl" with { type: "text" };
import convOut4Source from "../../shaders/conv/conv_out4.wgsl" with { type: "text" };
import convSource from "../../shaders/conv/conv.wgsl" with { type: "text" };
import depthwiseSource from "../../shaders/conv/depthwise_vec4.wgsl" with { type: "text" };
import filterTapsSource from "../../shaders/conv/filter_taps.wgsl" with { type: "text" };
import filterVec4Source from "../../shaders/conv/filter_vec4.wgsl" with { type: "text" };
import filterDepthwiseSource from "../../shaders/conv/filter_depthwise_vec4.wgsl" with {
  type: "text",
};
import filterSource from "../../shaders/conv/filter.wgsl" with { type: "text" };
import filterOut4Source from "../../shaders/conv/filter_out4.wgsl" with { type: "text" };
import sumSplitsSource from "../../shaders/conv/sum_splits.wgsl" with { type: "text" };
import sumSplitsVec4Source from "../../shaders/conv/sum_splits_vec4.wgsl" with { type: "text" };
import biasPartialSource from "../../shaders/conv/bias_partial.wgsl" with { type: "text" };

/** Invocations per workgroup of the convolution kernels (one dimension, folded grid). */
export const CONV_WG = 64;

/**
 * Invocations per workgroup of a small convolution dispatch on a CPU adapter:
 * llvmpipe runs a workgroup on one thread, 8 invocations a SIMD row (256
 * bits), so a dispatch of a few workgroups of 64 leaves cores idle.
 */
export const SMALL_CONV_WG = 8;

/**
 * Parameters of the forward / input-gradient kernels: a source image
 * convolved into a destination image (see shaders/conv/taps.wgsl for MODE).
 */
export const convParams = {
  batch: "u32",
  src_h: "u32",
  src_w: "u32",
  src_c: "u32",
  dst_h: "u32",
  dst_w: "u32",
  dst_c: "u32",
  k_h: "u32",
  k_w: "u32",
  stride_h: "u32",
  stride_w: "u32",
  pad_h: "u32",
  pad_w: "u32",
  dil_h: "u32",
  dil_w: "u32",
  src_cg: "u32",
  dst_cg: "u32",
  phases: "u32",
  row_blocks: "u32",
  col_blocks: "u32",
  /** Pixel blocks: batch x block rows x phases x row_blocks. */
  pixel_blocks: "u32",
  /** Invocations: col_blocks x pixel_blocks (conv_vec4 HALVES = 2: pixel_blocks halved, rounded up). */
  blocks: "u32",
} as const;

/** Values of {@link convParams}. */
export type ConvParams = { readonly [K in keyof typeof convParams]: number };

/** One side of a pass: its map and channels (per group). */
export interface PassSide {
  readonly h: number;
  readonly w: number;
  readonly c: number;
  readonly cg: number;
}

/**
 * Parameters of a source -> destination pass; MODE 1 visits stride phases. A
 * block covers `tilePixels` columns of `tileRows` (1 or 2) destination rows.
 */
export const passParams = (
  g: ConvGeometry,
  src: PassSide,
  dst: PassSide,
  mode: 0 | 1,
  tilePixels: number,
  tileChannels: number,
  tileRows = 1,
): ConvParams => {
  const phases = mode === 1 ? g.strideW : 1;
  const rowBlocks = Math.ceil(Math.ceil(dst.w / phases) / tilePixels);
  const pixelBlocks = g.batch * Math.ceil(dst.h / tileRows) * phases * rowBlocks;
  // Depthwise tiles span groups (4 channels, one group each); the others stay in one group.
  const colBlocks = isDepthwise(g)
    ? Math.ceil(dst.c / tileChannels)
    : g.groups * Math.ceil(dst.cg / tileChannels);
  return {
    batch: g.batch,
    src_h: src.h,
    src_w: src.w,
    src_c: src.c,
    dst_h: dst.h,
    dst_w: dst.w,
    dst_c: dst.c,
    k_h: g.kH,
    k_w: g.kW,
    stride_h: g.strideH,
    stride_w: g.strideW,
    pad_h: g.padH,
    pad_w: g.padW,
    dil_h: g.dilH,
    dil_w: g.dilW,
    src_cg: src.cg,
    dst_cg: dst.cg,
    phases,
    row_blocks: rowBlocks,
    col_blocks: colBlocks,
    pixel_blocks: pixelBlocks,
    blocks: pixelBlocks * colBlocks,
  };
};

/** Storage bindings of the forward / input-gradient kernels, scalar or vec4. */
export const convBindings = <T extends "f32" | "vec4f">(type: T) =>
  ({
    src: { access: "read", type },
    weight: { access: "read", type },
    bias: { access: "read", type },
    dst: { access: "read_write", type },
  }) as const;

/** Least elements of the source and destination of a forward / input-gradient pass. */
export const convMinElements = (p: ConvParams) => ({
  src: p.batch * p.src_h * p.src_w * p.src_c,
  dst: p.batch * p.dst_h * p.dst_w * p.dst_c,
});

/**
 * The grid of `blocks` invocations in workgroups of `WG` (the kernel's
 * constant: {@link CONV_WG}, or {@link SMALL_CONV_WG} for a small dispatch on
 * a CPU adapter, `convWorkgroup` in conv_tiled.ts).
 */
const grid = (p: { blocks: number }, c: { WG: number }) => linearGrid(p.blocks, c.WG);

/** Workgroup size from the kernel's `WG` constant. */
const workgroup = (c: { WG: number }): [number, number, number] => [c.WG, 1, 1];

/** What every forward / input-gradient kernel declares alike: parameters, grid, sizes. */
const passOptions = {
  params: convParams,
  workgroupSize: workgroup,
  dispatch: grid,
  minElements: convMinElements,
} as const;

/** The register kernel's constants (its uniform-filter form adds W_QUADS). */
const convVec4Constants = {
  MODE: "u32",
  FITS: "u32",
  HAS_BIAS: "u32",
  PAIR: "u32",
  QUADS: "u32",
  HALVES: "u32",
  WG: "u32",
} as const;

/** The RGB stem kernel's constants (its uniform-filter form adds W_QUADS). */
const convOut4Constants = { MODE: "u32", HAS_BIAS: "u32", QUADS: "u32", WG: "u32" } as const;

/** The register kernel reading its source and filter as `via` says. */
const convVec4KernelVia = (via: ReadVia) =>
  defineKernel({
    name: `shaders/conv/conv_vec4.wgsl${viaSuffix(via)}`,
    source: tapsSource + convVec4Source,
    bindings: {
      ...convBindings("vec4f"),
      src: { access: "read", type: "vec4f", via },
      weight: { access: "read", type: "vec4f", via },
    },
    constants: convVec4Constants,
    ...passOptions,
  });

/** A filter binding read as a uniform block of W_QUADS vec4s (useUniformFilter in conv_tiled.ts). */
const uniformFilter = { access: "read", type: "vec4f", via: "uniform", quads: "W_QUADS" } as const;

/** The name suffix of a kernel whose filter is a uniform block. */
const UNIFORM_FILTER_SUFFIX = "+uniform filter";

/**
 * 8 pixels (one row's, or PAIR: 4 columns of two rows) x 4 QUADS channels per
 * invocation, vec4 loads (channels per group % 4 == 0; QUADS 4: destination
 * channels per group % 16 == 0).
 */
export const convVec4Kernel = convVec4KernelVia("buffer");

/** {@link convVec4Kernel} reading the source and the filter from texture copies (CPU adapters). */
export const convVec4TextureKernel = convVec4KernelVia("texture");

/**
 * {@link convVec4Kernel} reading its source as `via` says and its filter (at
 * most 64 KiB, W_QUADS vec4s) as a uniform block.
 */
const convVec4UniformFilterKernelVia = (via: ReadVia) =>
  defineKernel({
    name: `shaders/conv/conv_vec4.wgsl${UNIFORM_FILTER_SUFFIX}${viaSuffix(via)}`,
    source: tapsSource + convVec4Source,
    bindings: {
      ...convBindings("vec4f"),
      src: { access: "read", type: "vec4f", via },
      weight: uniformFilter,
    },
    constants: { ...convVec4Constants, W_QUADS: "u32" },
    ...passOptions,
  });

/**
 * {@link convVec4Kernel} with its filter a uniform block, by the way the
 * source is read (CPU adapters, filters of at most 64 KiB).
 */
export const convVec4UniformFilterKernels = {
  buffer: convVec4UniformFilterKernelVia("buffer"),
  texture: convVec4UniformFilterKernelVia("texture"),
};

/** The scalar-source kernel reading its source and filter as `via` says. */
const convOut4KernelVia = (via: ReadVia) =>
  defineKernel({
    name: `shaders/conv/conv_out4.wgsl${viaSuffix(via)}`,
    source: tapsSource + convOut4Source,
    bindings: {
      src: { access: "read", type: "f32", via },
      weight: { access: "read", type: "vec4f", via },
      bias: { access: "read", type: "vec4f" },
      dst: { access: "read_write", type: "vec4f" },
    },
    constants: convOut4Constants,
    ...passOptions,
  });

/**
 * 8 pixels x 4 QUADS channels per invocation, scalar source loads
 * (destination channels per group % 4 == 0; QUADS 4: % 16 == 0).
 */
export const convOut4Kernel = convOut4KernelVia("buffer");

/** {@link convOut4Kernel} reading the source and the filter from texture copies (CPU adapters). */
export const convOut4TextureKernel = convOut4KernelVia("texture");

/** The scalar-source kernel reading its source as `via` says and its filter as a uniform block. */
const convOut4UniformFilterKernelVia = (via: ReadVia) =>
  defineKernel({
    name: `shaders/conv/conv_out4.wgsl${UNIFORM_FILTER_SUFFIX}${viaSuffix(via)}`,
    source: tapsSource + convOut4Source,
    bindings: {
      src: { access: "read", type: "f32", via },
      weight: uniformFilter,
      bias: { access: "read", type: "vec4f" },
      dst: { access: "read_write", type: "vec4f" },
    },
    constants: { ...convOut4Constants, W_QUADS: "u32" },
    ...passOptions,
  });

/**
 * {@link convOut4Kernel} with its filter a uniform block, by the way the
 * source is read (CPU adapters, filters of at most 64 KiB).
 */
export const convOut4UniformFilterKernels = {
  buffer: convOut4UniformFilterKernelVia("buffer"),
  texture: convOut4UniformFilterKernelVia("texture"),
};

/** 4 pixels x 4 channels per invocation, scalar loads, any shape. */
export const convGeneralKernel = defineKernel({
  name: "shaders/conv/conv.wgsl",
  source: tapsSource + convSource,
  bindings: convBindings("f32"),
  params: convParams,
  constants: { MODE: "u32", HAS_BIAS: "u32", WG: "u32" },
  workgroupSize: workgroup,
  dispatch: grid,
  minElements: convMinElements,
});

/** Depthwise: 8 pixels x 4 channels per invocation, vec4 loads (C % 4 == 0). */
export const depthwiseVec4Kernel = defineKernel({
  name: "shaders/conv/depthwise_vec4.wgsl",
  source: tapsSource + depthwiseSource,
  bindings: convBindings("vec4f"),
  params: convParams,
  constants: { MODE: "u32", HAS_BIAS: "u32", WG: "u32" },
  workgroupSize: workgroup,
  dispatch: grid,
  minElements: convMinElements,
});

/** Parameters of the filter-gradient kernels (forward geometry plus the split). */
export const filterParams = {
  batch: "u32",
  in_h: "u32",
  in_w: "u32",
  in_c: "u32",
  out_h: "u32",
  out_w: "u32",
  out_c: "u32",
  k_h: "u32",
  k_w: "u32",
  stride_h: "u32",
  stride_w: "u32",
  pad_h: "u32",
  pad_w: "u32",
  dil_h: "u32",
  dil_w: "u32",
  in_cg: "u32",
  out_cg: "u32",
  rows_per_split: "u32",
  taps_size: "u32",
  ci_blocks: "u32",
  co_blocks: "u32",
  /** Taps along a filter row an invocation takes (filter_out4 TAPS; 1 for the other kernels). */
  tap_width: "u32",
  blocks: "u32",
  /** 1: add the gradient into the output instead of overwriting it (single split only). */
  accumulate: "u32",
} as const;

/** Values of {@link filterParams}. */
export type FilterParams = { readonly [K in keyof typeof filterParams]: number };

/** Storage bindings of the filter-gradient kernels, scalar or vec4. */
export const filterBindings = <T extends "f32" | "vec4f">(type: T) =>
  ({
    src: { access: "read", type },
    grad: { access: "read", type },
    partial: { access: "read_write", type },
  }) as const;

/** Least elements of x, dy and the partial sums of a filter-gradient pass. */
export const filterMinElements = (p: FilterParams) => ({
  src: p.batch * p.in_h * p.in_w * p.in_c,
  grad: p.batch * p.out_h * p.out_w * p.out_c,
  partial: Math.ceil((p.batch * p.out_h) / p.rows_per_split) * p.taps_size,
});

/** The split-K filter-gradient kernel reading x and dy as `via` says. */
const filterVec4KernelVia = (via: ReadVia) =>
  defineKernel({
    name: `shaders/conv/filter_vec4.wgsl${viaSuffix(via)}`,
    source: filterTapsSource + filterVec4Source,
    bindings: {
      ...filterBindings("vec4f"),
      src: { access: "read", type: "vec4f", via },
      grad: { access: "read", type: "vec4f", via },
    },
    params: filterParams,
    constants: { CO_QUADS: "u32", CI_BLOCKS: "u32", WG: "u32" },
    workgroupSize: workgroup,
    dispatch: grid,
    minElements: filterMinElements,
  });

/** Split-K filter gradient, 8 x 4 CO_QUADS tile per invocation, vec4 loads. */
export const filterVec4Kernel = filterVec4KernelVia("buffer");

/** {@link filterVec4Kernel} reading x and dy from texture copies (CPU adapters). */
export const filterVec4TextureKernel = filterVec4KernelVia("texture");

/** The scalar-source filter-gradient kernel reading x and dy as `via` says. */
const filterOut4KernelVia = (via: ReadVia) =>
  defineKernel({
    name: `shaders/conv/filter_out4.wgsl${viaSuffix(via)}`,
    source: filterTapsSource + filterOut4Source,
    bindings: {
      src: { access: "read", type: "f32", via },
      grad: { access: "read", type: "vec4f", via },
      partial: { access: "read_write", type: "vec4f" },
    },
    params: filterParams,
    constants: { CO_QUADS: "u32", CI_USED: "u32", TAPS: "u32", WG: "u32" },
    workgroupSize: workgroup,
    dispatch: grid,
    minElements: filterMinElements,
  });

/**
 * Split-K filter gradient with scalar source loads and vec4 gradient loads
 * (output channels per group % 4 == 0): 4 x 4 CO_QUADS tile per invocation.
 */
export const filterOut4Kernel = filterOut4KernelVia("buffer");

/** {@link filterOut4Kernel} reading x and dy from texture copies (CPU adapters). */
export const filterOut4TextureKernel = filterOut4KernelVia("texture");

/** Split-K filter gradient, 4x4 tile per invocation, scalar loads, any shape. */
export const filterGeneralKernel = defineKernel({
  name: "shaders/conv/filter.wgsl",
  source: filterTapsSource + filterSource,
  bindings: filterBindings("f32"),
  params: filterParams,
  constants: { WG: "u32" },
  workgroupSize: workgroup,
  dispatch: grid,
  minElements: filterMinElements,
});

/** out[i] = sum over splits of partial[s * size + i] (added to out[i] when accumulate = 1). */
export const sumSplitsKernel = defineKernel({
  name: "shaders/conv/sum_splits.wgsl",
  source: sumSplitsSource,
  bindings: {
    partial: { access: "read", type: "f32" },
    out: { access: "read_write", type: "f32" },
  },
  params: { size: "u32", splits: "u32", accumulate: "u32" },
  workgroupSize: [CONV_WG, 1, 1],
  dispatch: (p) => linearGrid(p.size, CONV_WG),
  minElements: (p) => ({ partial: p.size * p.splits, out: p.size }),
});

/** {@link sumSplitsKernel} over quads (`size` counts quads): the same sums, bit for bit. */
export const sumSplitsVec4Kernel = sumSplitsVec4KernelVia("buffer");

/** {@link sumSplitsVec4Kernel} reading the partial sums from a texture copy (CPU adapters). */
export const sumSplitsVec4TextureKernel = sumSplitsVec4KernelVia("texture");

/** The quad split-sum kernel reading the partial sums as `via` says. */
function sumSplitsVec4KernelVia(via: ReadVia) {
  return defineKernel({
    name: `shaders/conv/sum_splits_vec4.wgsl${viaSuffix(via)}`,
    source: sumSplitsVec4Source,
    bindings: {
      partial: { access: "read", type: "vec4f", via },
      out: { access: "read_write", type: "vec4f" },
    },
    params: { size: "u32", splits: "u32", accumulate: "u32" },
    workgroupSize: [CONV_WG, 1, 1],
    dispatch: (p: { size: number }) => linearGrid(p.size, CONV_WG),
    minElements: (p: { size: number; splits: number }) => ({
      partial: p.size * p.splits,
      out: p.size,
    }),
  });
}

/** Per-chunk channel sums of dy [pixels, channels] (first pass of the bias gradient). */
export const biasPartialKernel = defineKernel({
  name: "shaders/conv/bias_partial.wgsl",
  source: biasPartialSource,
  bindings: {
    grad: { access: "read", type: "f32" },
    partial: { access: "read_write", type: "f32" },
  },
  params: { pixels: "u32", channels: "u32", pixels_per_split: "u32", splits: "u32" },
  workgroupSize: [CONV_WG, 1, 1],
  dispatch: (p) => linearGrid(p.splits * p.channels, CONV_WG),
  minElements: (p) => ({ grad: p.pixels * p.channels, partial: p.splits * p.channels }),
});

/** Split-K filter gradient of a depthwise convolution, 4 channels of one tap per invocation. */
export const filterDepthwiseVec4Kernel = defineKernel({
  name: "shaders/conv/filter_depthwise_vec4.wgsl",
  source: filterTapsSource + filterDepthwiseSource,
  bindings: filterBindings("vec4f"),
  params: filterParams,
  constants: { WG: "u32" },
  workgroupSize: workgroup,
  dispatch: grid,
  minElements: filterMinElements,
});
