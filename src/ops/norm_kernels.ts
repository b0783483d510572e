/**
 * The batch-norm kernels (see src/ops/norm.ts for the ops that run them).
 *
 * @module
 */
import { defineKernel, linearGrid, type ReadVia, viaSuffix } from "../gpu/kernel.ts";
import chunkStatsSource from "../../shaders/norm/chunk_stats.wgsl" with { type: "text" };
import finalizeStatsSource from "../../shaders/norm/finalize_stats.wgsl" with { type: "text" };
import statsFinishSource from "../../shaders/norm/stats_finish.wgsl" with { type: "text" };
import statsSingleSource from "../../shaders/norm/stats_single.wgsl" with { type: "text" };
import forwardSingleSource from "../../shaders/norm/forward_single.wgsl" with { type: "text" };
import momentsSource from "../../shaders/norm/channel_moments.wgsl" with { type: "text" };
import evalStatsSource from "../../shaders/norm/eval_stats.wgsl" with { type: "text" };
import normalizeSource from "../../shaders/norm/normalize.wgsl" with { type: "text" };
import partialsSource from "../../shaders/norm/backward_partials.wgsl" with { type: "text" };
import backFinalizeSource from "../../shaders/norm/backward_finalize.wgsl" with { type: "text" };
import backFinishSource from "../../shaders/norm/backward_finish.wgsl" with { type: "text" };
import backSingleSource from "../../shaders/norm/backward_single.wgsl" with { type: "text" };
import forwardSingleVec4Source from "../../shaders/norm/forward_single_vec4.wgsl" with {
  type: "text",
};
import backSingleVec4Source from "../../shaders/norm/backward_single_vec4.wgsl" with {
  type: "text",
};
import upstreamSource from "../../shaders/norm/backward_upstream.wgsl" with { type: "text" };
import backInputSource from "../../shaders/norm/backward_input.wgsl" with { type: "text" };
import normalizeVec4Source from "../../shaders/norm/normalize_vec4.wgsl" with { type: "text" };
import normalizeRunningVec4Source from "../../shaders/norm/normalize_running_vec4.wgsl" with {
  type: "text",
};
import backInputVec4Source from "../../shaders/norm/backward_input_vec4.wgsl" with {
  type: "text",
};

const WG = 64;
/** Workgroup size of the channel-quad kernels: a few quads a group, so wide layers span cores. */
const QUAD_WG = 16;
const ELEMENTWISE_WG = 256;

/** Rows of a reduction split into chunks (one chunk: the single-pass kernels). */
export const chunkParams = {
  rows: "u32",
  channels: "u32",
  chunk_rows: "u32",
  chunks: "u32",
} as const;

const read = { access: "read", type: "f32" } as const;
const write = { access: "read_write", type: "f32" } as const;
const readQuads = { access: "read", type: "vec4f" } as const;
const writeQuads = { access: "read_write", type: "vec4f" } as const;

/** What finishing the statistics writes (stats_finish.wgsl), and its sizes. */
const statsOutputs = { stats: write, running_mean: write, running_var: write } as const;
const statsOutputSizes = (channels: number) => ({
  stats: 2 * channels,
  running_mean: channels,
  running_var: channels,
});

/** What finishing the backward reads and writes (backward_finish.wgsl), and its sizes. */
const finishBindings = {
  stats: read,
  weight: read,
  grad_weight: write,
  grad_bias: write,
  coef: write,
} as const;
const finishSizes = (channels: number) => ({
  stats: 2 * channels,
  weight: channels,
  grad_weight: channels,
  grad_bias: channels,
  coef: 3 * channels,
});

/** Per-(chunk, channel) mean and squared-deviation sum. */
export const chunkStatsKernel = defineKernel({
  name: "shaders/norm/chunk_stats.wgsl",
  source: chunkStatsSource,
  bindings: {
    x: read,
    partial: write,
  },
  params: chunkParams,
  workgroupSize: [WG, 1, 1],
  dispatch: (p) => linearGrid(p.chunks * p.channels, WG),
  minElements: (p) => ({ x: p.rows * p.channels, partial: 2 * p.chunks * p.channels }),
});

/** Merges chunk statistics per channel and updates the running stats. */
export const finalizeStatsKernel = defineKernel({
  name: "shaders/norm/finalize_stats.wgsl",
  source: statsFinishSource + finalizeStatsSource,
  bindings: { partial: read, ...statsOutputs },
  params: { ...chunkParams, eps: "f32", momentum: "f32" },
  workgroupSize: [WG, 1, 1],
  dispatch: (p) => [Math.ceil(p.channels / WG), 1, 1],
  minElements: (p) => ({ partial: 2 * p.chunks * p.channels, ...statsOutputSizes(p.channels) }),
});

/** The batch statistics of few rows in one pass (stats_single.wgsl): no chunk pass. */
export const statsSingleKernel = defineKernel({
  name: "shaders/norm/stats_single.wgsl",
  source: statsFinishSource + momentsSource + statsSingleSource,
  bindings: { x: read, ...statsOutputs },
  params: { ...chunkParams, eps: "f32", momentum: "f32" },
  workgroupSize: [WG, 1, 1],
  dispatch: (p) => [Math.ceil(p.channels / WG), 1, 1],
  minElements: (p) => ({ x: p.rows * p.channels, ...statsOutputSizes(p.channels) }),
});

/**
 * Training-mode batch norm of few rows in one dispatch (forward_single.wgsl):
 * statistics, running stats and the normalised output (ReLU when RELU = 1).
 */
export const forwardSingleKernel = defineKernel({
  name: "shaders/norm/forward_single.wgsl",
  source: statsFinishSource + momentsSource + forwardSingleSource,
  bindings: { x: read, ...statsOutputs, weight: read, bias: read, y: write },
  params: { ...chunkParams, eps: "f32", momentum: "f32" },
  constants: { RELU: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: (p) => [Math.ceil(p.channels / WG), 1, 1],
  minElements: (p) => {
    const n = p.rows * p.channels;
    return { x: n, ...statsOutputSizes(p.channels), weight: p.channels, bias: p.channels, y: n };
  },
});

/**
 * {@link forwardSingleKernel} a channel quad per invocation (channels % 4 ==
 * 0; `x` and `y` counted in quads): bit-identical, with a quarter of the loads.
 */
export const forwardSingleVec4Kernel = forwardSingleVec4KernelVia("buffer");

/** {@link forwardSingleVec4Kernel} reading `x` from a texture copy (CPU adapters). */
export const forwardSingleVec4TextureKernel = forwardSingleVec4KernelVia("texture");

/** The forward single-pass quad kernel reading `x` as `via` says. */
function forwardSingleVec4KernelVia(via: ReadVia) {
  return defineKernel({
    name: `shaders/norm/forward_single_vec4.wgsl${viaSuffix(via)}`,
    source: statsFinishSource + forwardSingleVec4Source,
    bindings: {
      x: { ...readQuads, via },
      ...statsOutputs,
      weight: read,
      bias: read,
      y: writeQuads,
    },
    params: { ...chunkParams, eps: "f32", momentum: "f32" },
    constants: { RELU: "u32" },
    workgroupSize: [QUAD_WG, 1, 1],
    dispatch: (p) => [Math.ceil(p.channels / 4 / QUAD_WG), 1, 1],
    minElements: (p) => {
      const quads = p.rows * p.channels / 4;
      return {
        x: quads,
        ...statsOutputSizes(p.channels),
        weight: p.channels,
        bias: p.channels,
        y: quads,
      };
    },
  });
}

/** Eval-mode statistics from the running stats. */
export const evalStatsKernel = defineKernel({
  name: "shaders/norm/eval_stats.wgsl",
  source: evalStatsSource,
  bindings: {
    running_mean: read,
    running_var: read,
    stats: write,
  },
  params: { channels: "u32", eps: "f32" },
  workgroupSize: [WG, 1, 1],
  dispatch: (p) => [Math.ceil(p.channels / WG), 1, 1],
  minElements: (p) => ({
    running_mean: p.channels,
    running_var: p.channels,
    stats: 2 * p.channels,
  }),
});

/** y = (x - mean) * inv_std * weight + bias, then ReLU when RELU = 1. */
export const normalizeKernel = defineKernel({
  name: "shaders/norm/normalize.wgsl",
  source: normalizeSource,
  bindings: {
    x: read,
    stats: read,
    weight: read,
    bias: read,
    y: write,
  },
  params: { n: "u32", channels: "u32" },
  constants: { RELU: "u32" },
  workgroupSize: [ELEMENTWISE_WG, 1, 1],
  dispatch: (p) => linearGrid(p.n, ELEMENTWISE_WG),
  minElements: (p) => ({
    x: p.n,
    stats: 2 * p.channels,
    weight: p.channels,
    bias: p.channels,
    y: p.n,
  }),
});

/**
 * Per-(chunk, channel) sums of dy and dy * (x - mean); with RELU = 1, dy
 * only where the forward's output `y` is positive (else `y` is unread).
 */
export const backwardPartialsKernel = defineKernel({
  name: "shaders/norm/backward_partials.wgsl",
  source: upstreamSource + partialsSource,
  bindings: {
    x: read,
    dy: read,
    y: read,
    stats: read,
    partial: write,
  },
  params: chunkParams,
  constants: { RELU: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: (p) => linearGrid(p.chunks * p.channels, WG),
  minElements: (p) => ({
    x: p.rows * p.channels,
    dy: p.rows * p.channels,
    y: p.rows * p.channels,
    stats: 2 * p.channels,
    partial: 2 * p.chunks * p.channels,
  }),
});

/** Weight and bias gradients and the coefficients of dx. */
export const backwardFinalizeKernel = defineKernel({
  name: "shaders/norm/backward_finalize.wgsl",
  source: backFinishSource + backFinalizeSource,
  bindings: { partial: read, ...finishBindings },
  params: chunkParams,
  constants: { TRAIN: "u32", ACCUMULATE: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: (p) => [Math.ceil(p.channels / WG), 1, 1],
  minElements: (p) => ({ partial: 2 * p.chunks * p.channels, ...finishSizes(p.channels) }),
});

/** The whole batch-norm backward of few rows in one dispatch: sums, coefficients and dx. */
export const backwardSingleKernel = defineKernel({
  name: "shaders/norm/backward_single.wgsl",
  source: upstreamSource + backFinishSource + backSingleSource,
  bindings: { x: read, dy: read, y: read, ...finishBindings, dx: write },
  params: chunkParams,
  constants: { TRAIN: "u32", ACCUMULATE: "u32", RELU: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: (p) => [Math.ceil(p.channels / WG), 1, 1],
  minElements: (p) => {
    const n = p.rows * p.channels;
    return { x: n, dy: n, y: n, ...finishSizes(p.channels), dx: n };
  },
});

/** {@link backwardSingleKernel} a channel quad per invocation (channels % 4 == 0), bit-identical. */
export const backwardSingleVec4Kernel = backwardSingleVec4KernelVia("buffer");

/** {@link backwardSingleVec4Kernel} reading `x`, `dy` and `y` from texture copies (CPU adapters). */
export const backwardSingleVec4TextureKernel = backwardSingleVec4KernelVia("texture");

/** The backward single-pass quad kernel reading `x`, `dy` and `y` as `via` says. */
function backwardSingleVec4KernelVia(via: ReadVia) {
  return defineKernel({
    name: `shaders/norm/backward_single_vec4.wgsl${viaSuffix(via)}`,
    source: backFinishSource + backSingleVec4Source,
    bindings: {
      x: { ...readQuads, via },
      dy: { ...readQuads, via },
      y: { ...readQuads, via },
      ...finishBindings,
      dx: writeQuads,
    },
    params: chunkParams,
    constants: { TRAIN: "u32", ACCUMULATE: "u32", RELU: "u32" },
    workgroupSize: [QUAD_WG, 1, 1],
    dispatch: (p) => [Math.ceil(p.channels / 4 / QUAD_WG), 1, 1],
    minElements: (p) => {
      const quads = p.rows * p.channels / 4;
      return { x: quads, dy: quads, y: quads, ...finishSizes(p.channels), dx: quads };
    },
  });
}

/** Elements the input-gradient kernels need: `n` counts elements (scalar) or quads (vec4). */
function backwardInputSizes(p: { n: number; channels: number }) {
  return { x: p.n, dy: p.n, y: p.n, stats: 2 * p.channels, coef: 3 * p.channels, dx: p.n };
}

/** dx from the coefficients (dy masked by the output `y` > 0 when RELU = 1). */
export const backwardInputKernel = defineKernel({
  name: "shaders/norm/backward_input.wgsl",
  source: backInputSource,
  bindings: {
    x: read,
    dy: read,
    y: read,
    stats: read,
    coef: read,
    dx: write,
  },
  params: { n: "u32", channels: "u32" },
  constants: { RELU: "u32" },
  workgroupSize: [ELEMENTWISE_WG, 1, 1],
  dispatch: (p) => linearGrid(p.n, ELEMENTWISE_WG),
  minElements: backwardInputSizes,
});

/** Workgroup size of the elementwise channel-quad kernels. */
const QUAD_ELEMENTWISE_WG = 64;

const normalizeVec4Sizes = (p: { n: number; channels: number }) => ({
  x: p.n,
  stats: 2 * p.channels,
  weight: p.channels,
  bias: p.channels,
  y: p.n,
});

/** {@link normalizeKernel} a channel quad per invocation (`n` counts quads), bit-identical. */
export const normalizeVec4Kernel = defineKernel({
  name: "shaders/norm/normalize_vec4.wgsl",
  source: normalizeVec4Source,
  bindings: {
    x: { ...readQuads, via: "buffer" },
    stats: { ...readQuads, via: "buffer" },
    weight: { ...readQuads, via: "buffer" },
    bias: { ...readQuads, via: "buffer" },
    y: writeQuads,
  },
  params: { n: "u32", channels: "u32" },
  constants: { RELU: "u32" },
  workgroupSize: [QUAD_ELEMENTWISE_WG, 1, 1],
  dispatch: (p) => linearGrid(p.n, QUAD_ELEMENTWISE_WG),
  minElements: normalizeVec4Sizes,
});

/**
 * {@link normalizeVec4Kernel} reading `x` as `via` says and the statistics
 * (S_QUADS = channels / 2), weight and bias (C_QUADS = channels / 4) as
 * uniform blocks: on llvmpipe a uniform read is one vector gather where a
 * storage read loops over the SIMD lanes (bench/uniform_reads.ts).
 */
const normalizeVec4UniformKernelVia = (via: ReadVia) =>
  defineKernel({
    name: `shaders/norm/normalize_vec4.wgsl+uniform${viaSuffix(via)}`,
    source: normalizeVec4Source,
    bindings: {
      x: { ...readQuads, via },
      stats: { ...readQuads, via: "uniform", quads: "S_QUADS" },
      weight: { ...readQuads, via: "uniform", quads: "C_QUADS" },
      bias: { ...readQuads, via: "uniform", quads: "C_QUADS" },
      y: writeQuads,
    },
    params: { n: "u32", channels: "u32" },
    constants: { RELU: "u32", S_QUADS: "u32", C_QUADS: "u32" },
    workgroupSize: [QUAD_ELEMENTWISE_WG, 1, 1],
    dispatch: (p) => linearGrid(p.n, QUAD_ELEMENTWISE_WG),
    minElements: normalizeVec4Sizes,
  });

/** {@link normalizeVec4Kernel} with uniform per-channel reads (CPU adapters), by the way `x` is read. */
export const normalizeVec4UniformKernels = {
  buffer: normalizeVec4UniformKernelVia("buffer"),
  texture: normalizeVec4UniformKernelVia("texture"),
};

/** {@link backwardInputKernel} a channel quad per invocation (`n` counts quads), bit-identical. */
export const backwardInputVec4Kernel = backwardInputVec4KernelVia("buffer");

/**
 * {@link backwardInputVec4Kernel} reading `x`, `dy` and `y` from texture
 * copies (llvmpipe without AVX-512 code).
 */
export const backwardInputVec4TextureKernel = backwardInputVec4KernelVia("texture");

/** The input-gradient quad kernel reading `x`, `dy` and `y` as `via` says. */
function backwardInputVec4KernelVia(via: ReadVia) {
  return defineKernel({
    name: `shaders/norm/backward_input_vec4.wgsl${viaSuffix(via)}`,
    source: backInputVec4Source,
    bindings: {
      x: { ...readQuads, via },
      dy: { ...readQuads, via },
      y: { ...readQuads, via },
      stats: read,
      coef: read,
      dx: writeQuads,
    },
    params: { n: "u32", channels: "u32" },
    constants: { RELU: "u32" },
    workgroupSize: [QUAD_ELEMENTWISE_WG, 1, 1],
    dispatch: (p) => linearGrid(p.n, QUAD_ELEMENTWISE_WG),
    minElements: backwardInputSizes,
  });
}

const normalizeRunningSizes = (p: { n: number; channels: number }) => ({
  x: p.n,
  running_mean: p.channels,
  running_var: p.channels,
  weight: p.channels,
  bias: p.channels,
  y: p.n,
});

/**
 * Eval-mode batch norm from the running statistics in one dispatch (channel
 * quads), reading them and the affine parameters as `perChannel` says
 * (uniform blocks of C_QUADS vec4s on a CPU adapter) and `x` as `via` says:
 * bit for bit eval_stats.wgsl then normalize_vec4.wgsl, without the
 * statistics tensor.
 */
const normalizeRunningKernelVia = (via: ReadVia, perChannel: "buffer" | "uniform") => {
  const channel = perChannel === "uniform"
    ? { ...readQuads, via: "uniform", quads: "C_QUADS" } as const
    : { ...readQuads, via: "buffer" } as const;
  return defineKernel({
    name: `shaders/norm/normalize_running_vec4.wgsl${perChannel === "uniform" ? "+uniform" : ""}${
      viaSuffix(via)
    }`,
    source: normalizeRunningVec4Source,
    bindings: {
      x: { ...readQuads, via },
      running_mean: channel,
      running_var: channel,
      weight: channel,
      bias: channel,
      y: writeQuads,
    },
    params: { n: "u32", channels: "u32", eps: "f32" },
    constants: { RELU: "u32", C_QUADS: "u32" },
    workgroupSize: [QUAD_ELEMENTWISE_WG, 1, 1],
    dispatch: (p) => linearGrid(p.n, QUAD_ELEMENTWISE_WG),
    minElements: normalizeRunningSizes,
  });
};

/** The one-pass eval normalize reading every binding from its storage buffer (GPUs). */
export const normalizeRunningKernel = normalizeRunningKernelVia("buffer", "buffer");

/** The one-pass eval normalize with uniform per-channel reads (CPU adapters), by the read of `x`. */
export const normalizeRunningUniformKernels = {
  buffer: normalizeRunningKernelVia("buffer", "uniform"),
  texture: normalizeRunningKernelVia("texture", "uniform"),
};
