/**
 * Pooling over NHWC tensors: max pool (PyTorch's `max_pool2d`, floor output
 * size, padding as -inf) with the argmax the backward gathers through, and
 * global average pooling (DeepLabV3's image-level ASPP branch).
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import { BindingError, type GpuError } from "../gpu/errors.ts";
import { defineKernel, linearGrid, type ReadVia, viaSuffix } from "../gpu/kernel.ts";
import { empty, reshape, type Tensor } from "../tensor/tensor.ts";
import { reduce } from "./reduce.ts";
import { readThroughTexturesWithoutAvx512 } from "./texture_reads.ts";
import maxPoolSource from "../../shaders/pool/max_pool.wgsl" with { type: "text" };
import maxPoolBackSource from "../../shaders/pool/max_pool_backward.wgsl" with { type: "text" };
import maxPoolVec4Source from "../../shaders/pool/max_pool_vec4.wgsl" with { type: "text" };
import maxPoolBackVec4Source from "../../shaders/pool/max_pool_backward_vec4.wgsl" with {
  type: "text",
};
import avgBackSource from "../../shaders/pool/global_avg_backward.wgsl" with { type: "text" };

const WG = 128;

const geometryParams = {
  batch: "u32",
  in_h: "u32",
  in_w: "u32",
  channels: "u32",
  out_h: "u32",
  out_w: "u32",
  kernel: "u32",
  stride: "u32",
  padding: "u32",
} as const;

type GeometryParams = { readonly [K in keyof typeof geometryParams]: number };

const inputCount = (p: GeometryParams) => p.batch * p.in_h * p.in_w * p.channels;
const outputCount = (p: GeometryParams) => p.batch * p.out_h * p.out_w * p.channels;

/** Max pool forward with argmax, one invocation per output. */
export const maxPoolKernel = defineKernel({
  name: "shaders/pool/max_pool.wgsl",
  source: maxPoolSource,
  bindings: {
    x: { access: "read", type: "f32" },
    y: { access: "read_write", type: "f32" },
    argmax: { access: "read_write", type: "i32" },
  },
  params: geometryParams,
  workgroupSize: [WG, 1, 1],
  dispatch: (p) => linearGrid(outputCount(p), WG),
  minElements: (p) => ({ x: inputCount(p), y: outputCount(p), argmax: outputCount(p) }),
});

/** Max pool backward as a gather, one invocation per input element. */
export const maxPoolBackwardKernel = defineKernel({
  name: "shaders/pool/max_pool_backward.wgsl",
  source: maxPoolBackSource,
  bindings: {
    dy: { access: "read", type: "f32" },
    argmax: { access: "read", type: "i32" },
    dx: { access: "read_write", type: "f32" },
  },
  params: geometryParams,
  workgroupSize: [WG, 1, 1],
  dispatch: (p) => linearGrid(inputCount(p), WG),
  minElements: (p) => ({ dy: outputCount(p), argmax: outputCount(p), dx: inputCount(p) }),
});

/** Workgroup size of the channel-quad kernels. */
const QUAD_WG = 64;

/** {@link maxPoolKernel} on a channel quad per invocation (channels % 4 == 0), bit-identical. */
export const maxPoolVec4Kernel = defineKernel({
  name: "shaders/pool/max_pool_vec4.wgsl",
  source: maxPoolVec4Source,
  bindings: {
    x: { access: "read", type: "vec4f" },
    y: { access: "read_write", type: "vec4f" },
    argmax: { access: "read_write", type: "i32" },
  },
  params: geometryParams,
  workgroupSize: [QUAD_WG, 1, 1],
  dispatch: (p) => linearGrid(outputCount(p) / 4, QUAD_WG),
  minElements: (p) => ({ x: inputCount(p) / 4, y: outputCount(p) / 4, argmax: outputCount(p) }),
});

/** The quad max pool backward reading `dy` as `via` says. */
const maxPoolBackwardVec4KernelVia = (via: ReadVia) =>
  defineKernel({
    name: `shaders/pool/max_pool_backward_vec4.wgsl${viaSuffix(via)}`,
    source: maxPoolBackVec4Source,
    bindings: {
      dy: { access: "read", type: "vec4f", via },
      argmax: { access: "read", type: "i32" },
      dx: { access: "read_write", type: "vec4f" },
    },
    params: geometryParams,
    workgroupSize: [QUAD_WG, 1, 1],
    dispatch: (p) => linearGrid(inputCount(p) / 4, QUAD_WG),
    minElements: (p) => ({
      dy: outputCount(p) / 4,
      argmax: outputCount(p),
      dx: inputCount(p) / 4,
    }),
  });

/** {@link maxPoolBackwardKernel} on a channel quad per invocation, bit-identical. */
export const maxPoolBackwardVec4Kernel = maxPoolBackwardVec4KernelVia("buffer");

/**
 * {@link maxPoolBackwardVec4Kernel} reading `dy` from a texture copy (llvmpipe
 * without AVX-512 code).
 */
export const maxPoolBackwardVec4TextureKernel = maxPoolBackwardVec4KernelVia("texture");

let channelQuads = true;

/**
 * Turns the channel-quad max pool kernels on or off (taken when the channels
 * are a multiple of 4) and returns the previous setting: tests compare them
 * with the scalar ones with it.
 */
export const setPoolQuads = (on: boolean): boolean => {
  const previous = channelQuads;
  channelQuads = on;
  return previous;
};

/** Broadcast of dy / (H W) over the pixels. */
export const globalAvgPoolBackwardKernel = defineKernel({
  name: "shaders/pool/global_avg_backward.wgsl",
  source: avgBackSource,
  bindings: {
    dy: { access: "read", type: "f32" },
    dx: { access: "read_write", type: "f32" },
  },
  params: { batch: "u32", pixels: "u32", channels: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: (p) => linearGrid(p.batch * p.pixels * p.channels, WG),
  minElements: (p) => ({ dy: p.batch * p.channels, dx: p.batch * p.pixels * p.channels }),
});

/** Geometry of a square max pool (the network uses kernel 3, stride 2, padding 1). */
export interface MaxPoolOptions {
  readonly kernel: number;
  readonly stride: number;
  readonly padding: number;
}

/** Max pool result: the output and, per output, the input pixel (h * W + w) it took. */
export interface MaxPoolResult {
  readonly y: Tensor<"f32">;
  readonly argmax: Tensor<"i32">;
}

const geometryOf = (
  shape: readonly number[],
  g: MaxPoolOptions,
): GeometryParams | BindingError => {
  const fail = (reason: string) =>
    new BindingError({ kernel: maxPoolKernel.name, binding: "x", reason });
  if (shape.length !== 4) return fail(`expects NHWC, got [${shape.join(", ")}]`);
  const [batch, inH, inW, channels] = shape;
  const whole = [g.kernel, g.stride, g.padding].every(Number.isInteger);
  if (!whole || g.kernel < 1 || g.stride < 1 || g.padding < 0 || 2 * g.padding > g.kernel) {
    // PyTorch's rule: padding at most half the kernel, so no window is all padding.
    return fail(`invalid geometry ${JSON.stringify(g)}`);
  }
  const outH = Math.floor((inH + 2 * g.padding - g.kernel) / g.stride) + 1;
  const outW = Math.floor((inW + 2 * g.padding - g.kernel) / g.stride) + 1;
  if (outH < 1 || outW < 1) return fail(`kernel ${g.kernel} exceeds the padded input`);
  return {
    batch,
    in_h: inH,
    in_w: inW,
    channels,
    out_h: outH,
    out_w: outW,
    kernel: g.kernel,
    stride: g.stride,
    padding: g.padding,
  };
};

/**
 * Max pool of an NHWC tensor. Ties keep the first pixel of the window in
 * row-major order (smallest h, then smallest w), as PyTorch's CPU kernel.
 */
export const maxPool2d = (
  x: Tensor<"f32">,
  options: MaxPoolOptions,
): Effect.Effect<MaxPoolResult, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const p = geometryOf(x.shape, options);
    if (p instanceof BindingError) return yield* p;
    const gpu = yield* Gpu;
    const outShape = [p.batch, p.out_h, p.out_w, p.channels];
    const y = yield* empty(outShape, "f32");
    const argmax = yield* empty(outShape, "i32");
    if (channelQuads && p.channels % 4 === 0) {
      yield* gpu.recorder.dispatch(maxPoolVec4Kernel, { x, y, argmax }, p);
    } else {
      yield* gpu.recorder.dispatch(maxPoolKernel, { x, y, argmax }, p);
    }
    return { y, argmax };
  });

/** Gradient of max pool: each input sums the gradients of the outputs that took it. */
export const maxPool2dBackward = (
  dy: Tensor<"f32">,
  argmax: Tensor<"i32">,
  inputShape: readonly number[],
  options: MaxPoolOptions,
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const p = geometryOf(inputShape, options);
    if (p instanceof BindingError) return yield* p;
    const gpu = yield* Gpu;
    const dx = yield* empty(inputShape, "f32");
    if (channelQuads && p.channels % 4 === 0) {
      const kernel = readThroughTexturesWithoutAvx512(gpu.adapter.isFallback, dy)
        ? maxPoolBackwardVec4TextureKernel
        : maxPoolBackwardVec4Kernel;
      yield* gpu.recorder.dispatch(kernel, { dy, argmax, dx }, p);
    } else {
      yield* gpu.recorder.dispatch(maxPoolBackwardKernel, { dy, argmax, dx }, p);
    }
    return dx;
  });

/** Mean over H and W: [N, H, W, C] -> [N, 1, 1, C] (a reduction over the pixel axis). */
export const globalAvgPool = (
  x: Tensor<"f32">,
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const [n, h, w, c] = x.shape;
    const means = yield* reduce("mean", reshape(x, [n, h * w, c]), 1);
    return reshape(means, [n, 1, 1, c]);
  });

/** Gradient of global average pooling: dy [N, 1, 1, C] / (H W) broadcast over H and W. */
export const globalAvgPoolBackward = (
  dy: Tensor<"f32">,
  inputShape: readonly number[],
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const [n, h, w, c] = inputShape;
    const gpu = yield* Gpu;
    const dx = yield* empty(inputShape, "f32");
    yield* gpu.recorder.dispatch(globalAvgPoolBackwardKernel, { dy, dx }, {
      batch: n,
      pixels: h * w,
      channels: c,
    });
    return dx;
  });
