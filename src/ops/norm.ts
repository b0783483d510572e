/**
 * Batch normalisation over NHWC tensors (statistics per channel over
 * N*H*W), forward and backward, in training mode (batch statistics, running
 * stats updated in place as PyTorch does) and eval mode (running stats).
 *
 * The per-channel reductions are two passes: one invocation per (chunk of
 * rows, channel) reduces its chunk, then one invocation per channel merges
 * the chunks in a fixed order: deterministic, and every pass reads rows
 * contiguously across neighbouring invocations.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import { readThroughTexturesWithoutAvx512 } from "./texture_reads.ts";
import { readUniform } from "./uniform_reads.ts";
import { BindingError, type GpuError } from "../gpu/errors.ts";
import { empty, type Tensor } from "../tensor/tensor.ts";
import {
  backwardFinalizeKernel,
  backwardInputKernel,
  backwardInputVec4Kernel,
  backwardInputVec4TextureKernel,
  backwardPartialsKernel,
  backwardSingleKernel,
  backwardSingleVec4Kernel,
  backwardSingleVec4TextureKernel,
  chunkStatsKernel,
  evalStatsKernel,
  finalizeStatsKernel,
  forwardSingleKernel,
  forwardSingleVec4Kernel,
  forwardSingleVec4TextureKernel,
  normalizeKernel,
  normalizeRunningKernel,
  normalizeRunningUniformKernels,
  normalizeVec4Kernel,
  normalizeVec4UniformKernels,
  statsSingleKernel,
} from "./norm_kernels.ts";

/** Batch-norm mode: batch statistics (and running-stat update) or running stats. */
export type BatchNormMode = "train" | "eval";

/** Options of {@link batchNorm}; PyTorch's defaults. */
export interface BatchNormOptions {
  readonly mode: BatchNormMode;
  /** Weight of the new batch statistic in the running average (default 0.1). */
  readonly momentum?: number;
  /** Added to the variance before the square root (default 1e-5). */
  readonly eps?: number;
  /** Applies ReLU to the output in the same pass (conv -> BN -> ReLU). */
  readonly relu?: boolean;
}

/** The per-channel parameters and running statistics of a batch-norm layer, all [C]. */
export interface BatchNormState {
  readonly weight: Tensor<"f32">;
  readonly bias: Tensor<"f32">;
  /** Updated in place in training mode. */
  readonly runningMean: Tensor<"f32">;
  /** Updated in place in training mode (with the unbiased batch variance). */
  readonly runningVar: Tensor<"f32">;
}

/** Result of the forward: the output and the statistics the backward needs. */
export interface BatchNormResult {
  readonly y: Tensor<"f32">;
  /** [2, C]: the mean, then 1 / sqrt(var + eps), that normalised x. */
  readonly stats: Tensor<"f32">;
}

/** Gradients of batch norm. */
export interface BatchNormGrads {
  readonly dx: Tensor<"f32">;
  readonly dWeight: Tensor<"f32">;
  readonly dBias: Tensor<"f32">;
}

/**
 * Rows per chunk of the two-pass reductions: chunks of at least 32 rows, at
 * most 256 chunks, so both passes have work for many invocations and the
 * merge stays short.
 */
export const chunkRowsFor = (rows: number): number => Math.max(32, Math.ceil(rows / 256));

/**
 * Up to this many rows a reduction runs in one pass, one invocation per
 * channel over every row: for small layers the second dispatch of the
 * chunked form costs more than its parallelism gains.
 */
export const SINGLE_PASS_ROWS = 2048;

let singlePassRows = SINGLE_PASS_ROWS;

/**
 * Sets the row count up to which reductions run in one pass (0: always
 * chunked) and returns the previous one: tests run the chunked kernels on
 * small inputs with it.
 */
export const setSinglePassRows = (rows: number): number => {
  const previous = singlePassRows;
  singlePassRows = rows;
  return previous;
};

let channelQuads = true;

/**
 * Turns the channel-quad forms of the one-pass kernels and of the chunked
 * path's elementwise passes (normalize, input gradient) on or off (channels
 * % 4 == 0 take them by default) and returns the previous setting: tests
 * compare them with the scalar ones with it.
 */
export const setChannelQuads = (on: boolean): boolean => {
  const previous = channelQuads;
  channelQuads = on;
  return previous;
};

const chunking = (rows: number, channels: number) => {
  const chunkRows = chunkRowsFor(rows);
  return { rows, channels, chunk_rows: chunkRows, chunks: Math.ceil(rows / chunkRows) };
};

const checkState = (x: Tensor, state: BatchNormState): BindingError | undefined => {
  const channels = x.shape[x.shape.length - 1];
  const fail = (binding: string, reason: string) =>
    new BindingError({ kernel: "batchNorm", binding, reason });
  if (x.shape.length === 0 || !channels || x.elements === 0) {
    return fail("x", `cannot normalise shape [${x.shape.join(", ")}]`);
  }
  for (const [name, t] of Object.entries(state)) {
    if ((t as Tensor).elements !== channels) {
      return fail(name, `has ${(t as Tensor).elements} elements, expected ${channels} channels`);
    }
  }
  return undefined;
};

/** The [2, C] statistics (mean, inverse std) of `x`'s channels under `options.mode`. */
export const batchNormStats = (
  x: Tensor<"f32">,
  state: BatchNormState,
  options: BatchNormOptions,
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const invalid = checkState(x, state);
    if (invalid) return yield* invalid;
    const gpu = yield* Gpu;
    const channels = x.shape[x.shape.length - 1];
    const eps = options.eps ?? 1e-5;
    const stats = yield* empty([2, channels], "f32");
    if (options.mode === "eval") {
      yield* gpu.recorder.dispatch(evalStatsKernel, {
        running_mean: state.runningMean,
        running_var: state.runningVar,
        stats,
      }, { channels, eps });
      return stats;
    }
    const rows = x.elements / channels;
    if (rows < 2) {
      // PyTorch refuses too: a batch variance from one value is meaningless.
      return yield* new BindingError({
        kernel: "batchNorm",
        binding: "x",
        reason: `training needs more than 1 value per channel, got [${x.shape.join(", ")}]`,
      });
    }
    const p = chunking(rows, channels);
    const momentum = options.momentum ?? 0.1;
    const running = { running_mean: state.runningMean, running_var: state.runningVar };
    if (rows <= singlePassRows) {
      const single = { ...p, chunk_rows: rows, chunks: 1, eps, momentum };
      yield* gpu.recorder.dispatch(statsSingleKernel, { x, stats, ...running }, single);
      return stats;
    }
    const partial = yield* empty([p.chunks, channels, 2], "f32");
    yield* gpu.recorder.dispatch(chunkStatsKernel, { x, partial }, p);
    yield* gpu.recorder.dispatch(finalizeStatsKernel, { partial, stats, ...running }, {
      ...p,
      eps,
      momentum,
    });
    return stats;
  });

/**
 * Batch norm of an NHWC tensor (channels innermost). In training mode it
 * normalises with the batch mean and biased variance and updates the running
 * stats in place: running = (1 - momentum) * running + momentum * batch stat,
 * with the unbiased variance for running_var (fails, as PyTorch does, when a
 * channel has a single value). In eval mode it normalises with the running stats.
 */
export const batchNorm = (
  x: Tensor<"f32">,
  state: BatchNormState,
  options: BatchNormOptions,
): Effect.Effect<BatchNormResult, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const channels = x.shape[x.shape.length - 1];
    const rows = x.elements / channels;
    const relu = { RELU: options.relu ? 1 : 0 };
    const small = rows >= 2 && rows <= singlePassRows && checkState(x, state) === undefined;
    if (options.mode === "train" && small) {
      // Statistics, running stats and output in one dispatch (a channel quad an invocation
      // when the channels come in quads).
      const stats = yield* empty([2, channels], "f32");
      const y = yield* empty(x.shape, "f32");
      const bindings = {
        x,
        stats,
        running_mean: state.runningMean,
        running_var: state.runningVar,
        weight: state.weight,
        bias: state.bias,
        y,
      };
      const params = {
        rows,
        channels,
        chunk_rows: rows,
        chunks: 1,
        eps: options.eps ?? 1e-5,
        momentum: options.momentum ?? 0.1,
      };
      if (channelQuads && channels % 4 === 0) {
        const kernel = readThroughTexturesWithoutAvx512(gpu.adapter.isFallback, x)
          ? forwardSingleVec4TextureKernel
          : forwardSingleVec4Kernel;
        yield* gpu.recorder.dispatch(kernel, bindings, params, relu);
      } else {
        yield* gpu.recorder.dispatch(forwardSingleKernel, bindings, params, relu);
      }
      return { y, stats };
    }
    const stats = yield* batchNormStats(x, state, options);
    const y = yield* empty(x.shape, "f32");
    const bindings = { x, stats, weight: state.weight, bias: state.bias, y };
    if (channelQuads && channels % 4 === 0) {
      const quads = { n: x.elements / 4, channels };
      if (readUniform(gpu.adapter.isFallback, stats, state.weight, state.bias)) {
        const via = readThroughTexturesWithoutAvx512(true, x) ? "texture" : "buffer";
        yield* gpu.recorder.dispatch(normalizeVec4UniformKernels[via], bindings, quads, {
          ...relu,
          S_QUADS: channels / 2,
          C_QUADS: channels / 4,
        });
      } else {
        yield* gpu.recorder.dispatch(normalizeVec4Kernel, bindings, quads, relu);
      }
    } else {
      const params = { n: x.elements, channels };
      yield* gpu.recorder.dispatch(normalizeKernel, bindings, params, relu);
    }
    return { y, stats };
  });

/**
 * Eval-mode batch norm for a forward no gradient passes through (a frozen
 * model's): y alone, bit for bit {@link batchNorm}'s in eval mode, in one
 * dispatch where the channels come in quads (the inverse std computed in the
 * same kernel instead of a statistics tensor first), else through
 * {@link batchNorm}.
 */
export const batchNormEval = (
  x: Tensor<"f32">,
  state: BatchNormState,
  options: { readonly eps?: number; readonly relu?: boolean },
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const channels = x.shape[x.shape.length - 1];
    if (!channelQuads || channels % 4 !== 0 || checkState(x, state) !== undefined) {
      return (yield* batchNorm(x, state, { ...options, mode: "eval" })).y;
    }
    const gpu = yield* Gpu;
    const y = yield* empty(x.shape, "f32");
    const bindings = {
      x,
      running_mean: state.runningMean,
      running_var: state.runningVar,
      weight: state.weight,
      bias: state.bias,
      y,
    };
    const params = { n: x.elements / 4, channels, eps: options.eps ?? 1e-5 };
    const constants = { RELU: options.relu ? 1 : 0, C_QUADS: channels / 4 };
    const perChannel = [state.runningMean, state.runningVar, state.weight, state.bias];
    if (readUniform(gpu.adapter.isFallback, ...perChannel)) {
      const via = readThroughTexturesWithoutAvx512(true, x) ? "texture" : "buffer";
      yield* gpu.recorder.dispatch(
        normalizeRunningUniformKernels[via],
        bindings,
        params,
        constants,
      );
    } else {
      yield* gpu.recorder.dispatch(
        normalizeRunningKernel,
        bindings,
        params,
        constants,
      );
    }
    return y;
  });

/**
 * Gradients of batch norm given the statistics its forward used. Training
 * mode differentiates through the batch statistics; eval mode is a
 * per-channel affine map (dx = weight * inv_std * dy). With `into`, the
 * weight and bias gradients are added into `into.weight` and `into.bias`
 * (returned as `dWeight` and `dBias`) instead of written to new tensors.
 * `reluOutput` is the output of a forward run with `relu`: the gradient
 * then passes only where it is positive.
 */
export const batchNormBackward = (
  x: Tensor<"f32">,
  dy: Tensor<"f32">,
  stats: Tensor<"f32">,
  weight: Tensor<"f32">,
  mode: BatchNormMode,
  into?: { readonly weight: Tensor<"f32">; readonly bias: Tensor<"f32"> },
  reluOutput?: Tensor<"f32">,
): Effect.Effect<BatchNormGrads, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const channels = x.shape[x.shape.length - 1];
    if (dy.elements !== x.elements || stats.elements !== 2 * channels) {
      return yield* new BindingError({
        kernel: "batchNormBackward",
        binding: "dy",
        reason: `dy [${dy.shape}] / stats [${stats.shape}] do not match x [${x.shape}]`,
      });
    }
    if (into && (into.weight.elements !== channels || into.bias.elements !== channels)) {
      return yield* new BindingError({
        kernel: "batchNormBackward",
        binding: "into",
        reason: `gradient targets of ${into.weight.elements} / ${into.bias.elements} elements ` +
          `for ${channels} channels`,
      });
    }
    const gpu = yield* Gpu;
    const rows = x.elements / channels;
    const p = chunking(rows, channels);
    const dWeight = into?.weight ?? (yield* empty([channels], "f32"));
    const dBias = into?.bias ?? (yield* empty([channels], "f32"));
    const coef = yield* empty([3, channels], "f32");
    const dx = yield* empty(x.shape, "f32");
    // With a fused ReLU, dy counts where its output is positive; else `y` is a stand-in.
    const y = reluOutput ?? dy;
    const modes = {
      TRAIN: mode === "train" ? 1 : 0,
      ACCUMULATE: into ? 1 : 0,
      RELU: reluOutput ? 1 : 0,
    };
    const grads = { weight, grad_weight: dWeight, grad_bias: dBias, coef };
    if (rows <= singlePassRows) {
      const single = { ...p, chunk_rows: rows, chunks: 1 };
      // Sums, coefficients and dx in one dispatch.
      const bindings = { x, dy, y, stats, ...grads, dx };
      if (channelQuads && channels % 4 === 0) {
        const kernel = readThroughTexturesWithoutAvx512(gpu.adapter.isFallback, x, dy, y)
          ? backwardSingleVec4TextureKernel
          : backwardSingleVec4Kernel;
        yield* gpu.recorder.dispatch(kernel, bindings, single, modes);
      } else {
        yield* gpu.recorder.dispatch(backwardSingleKernel, bindings, single, modes);
      }
      return { dx, dWeight, dBias };
    }
    const partial = yield* empty([p.chunks, channels, 2], "f32");
    const relu = { RELU: modes.RELU };
    yield* gpu.recorder.dispatch(backwardPartialsKernel, { x, dy, y, stats, partial }, p, relu);
    yield* gpu.recorder.dispatch(backwardFinalizeKernel, { partial, stats, ...grads }, p, {
      TRAIN: modes.TRAIN,
      ACCUMULATE: modes.ACCUMULATE,
    });
    const inputs = { x, dy, y, stats, coef, dx };
    if (channelQuads && channels % 4 === 0) {
      const quads = { n: x.elements / 4, channels };
      const kernel = readThroughTexturesWithoutAvx512(gpu.adapter.isFallback, x, dy, y)
        ? backwardInputVec4TextureKernel
        : backwardInputVec4Kernel;
      yield* gpu.recorder.dispatch(kernel, inputs, quads, relu);
    } else {
      yield* gpu.recorder.dispatch(backwardInputKernel, inputs, { n: x.elements, channels }, relu);
    }
    return { dx, dWeight, dBias };
  });
