/**
 * Bilinear resizing of NHWC tensors with PyTorch's
 * `interpolate(mode="bilinear", align_corners=False)` semantics for a given
 * output size (scale = in / out, half-pixel centres, source coordinate
 * clamped at 0), up or down, and its gradient as a deterministic gather.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import { BindingError, type GpuError } from "../gpu/errors.ts";
import { defineKernel, linearGrid, type ReadVia, viaSuffix } from "../gpu/kernel.ts";
import { quadsOf, readUniform } from "./uniform_reads.ts";
import { empty, type Tensor } from "../tensor/tensor.ts";
import tapsSource from "../../shaders/resize/taps.wgsl" with { type: "text" };
import { readThroughTextures } from "./texture_reads.ts";
import pixelTapsSource from "../../shaders/resize/pixel_taps.wgsl" with { type: "text" };
import forwardSource from "../../shaders/resize/bilinear.wgsl" with { type: "text" };
import pixelsSource from "../../shaders/resize/bilinear_pixels.wgsl" with { type: "text" };
import backwardSource from "../../shaders/resize/bilinear_backward.wgsl" with { type: "text" };

const WG = 128;

const resizeParams = {
  batch: "u32",
  in_h: "u32",
  in_w: "u32",
  channels: "u32",
  out_h: "u32",
  out_w: "u32",
  scale_h: "f32",
  scale_w: "f32",
} as const;

type ResizeParams = { readonly [K in keyof typeof resizeParams]: number };

const inputCount = (p: ResizeParams) => p.batch * p.in_h * p.in_w * p.channels;
const outputCount = (p: ResizeParams) => p.batch * p.out_h * p.out_w * p.channels;

/** The WGSL element of a kernel variant: one channel or a quad. */
const aliasOf = (elem: "f32" | "vec4f") => `alias Elem = ${elem === "f32" ? "f32" : "vec4<f32>"};`;

const forwardKernelFor = (elem: "f32" | "vec4f", via: ReadVia = "buffer") =>
  defineKernel({
    name: `shaders/resize/bilinear.wgsl<${elem}>${viaSuffix(via)}`,
    // The taps are shared text, so the backward inverts exactly the forward's taps.
    source: `${aliasOf(elem)}\n${tapsSource}\n${pixelTapsSource}\n${forwardSource}`,
    bindings: {
      x: { access: "read", type: elem, via },
      y: { access: "read_write", type: elem },
    },
    params: resizeParams,
    workgroupSize: [WG, 1, 1],
    dispatch: (p) => linearGrid(outputCount(p), WG),
    minElements: (p) => ({ x: inputCount(p), y: outputCount(p) }),
  });

const backwardKernelFor = (elem: "f32" | "vec4f", via: ReadVia = "buffer") =>
  defineKernel({
    name: `shaders/resize/bilinear_backward.wgsl<${elem}>${viaSuffix(via)}`,
    source: `${aliasOf(elem)}\n${tapsSource}\n${backwardSource}`,
    bindings: {
      dy: { access: "read", type: elem, via },
      dx: { access: "read_write", type: elem },
    },
    params: resizeParams,
    workgroupSize: [WG, 1, 1],
    dispatch: (p) => linearGrid(inputCount(p), WG),
    minElements: (p) => ({ dy: outputCount(p), dx: inputCount(p) }),
  });

/**
 * The forward with one invocation per output pixel over its channels
 * (bilinear_pixels.wgsl), reading `x` (X_QUADS vec4s, at most 64 KiB: logits
 * or features at a network's output stride) as a uniform block: on a CPU
 * adapter 1.3-3.6x faster than the per-element kernels at the `small`
 * model's upsampling (bench/uniform_reads.ts), bit-identical.
 */
const pixelsUniformKernelFor = (elem: "f32" | "vec4f") =>
  defineKernel({
    name: `shaders/resize/bilinear_pixels.wgsl<${elem}>+uniform`,
    source: `${aliasOf(elem)}\n${tapsSource}\n${pixelTapsSource}\n${pixelsSource}`,
    bindings: {
      x: { access: "read", type: elem, via: "uniform", quads: "X_QUADS" },
      y: { access: "read_write", type: elem },
    },
    params: resizeParams,
    constants: { X_QUADS: "u32" },
    workgroupSize: [WG, 1, 1],
    dispatch: (p) => linearGrid(p.batch * p.out_h * p.out_w, WG),
    minElements: (p) => ({ x: inputCount(p), y: outputCount(p) }),
  });

/** The per-pixel forward reading `x` as a uniform block, per channel or per channel quad. */
export const bilinearPixelsUniformKernels = {
  f32: pixelsUniformKernelFor("f32"),
  vec4f: pixelsUniformKernelFor("vec4f"),
};

/**
 * The per-pixel forward over channel quads reading `x` from a texture copy,
 * for sources past a uniform block on a CPU adapter (features at stride 8:
 * 1.3-1.6x the per-element kernel's speed with AVX-512 and AVX2 code).
 */
export const bilinearPixelsVec4TextureKernel = defineKernel({
  name: "shaders/resize/bilinear_pixels.wgsl<vec4f>+textures",
  source: `${aliasOf("vec4f")}\n${tapsSource}\n${pixelTapsSource}\n${pixelsSource}`,
  bindings: {
    x: { access: "read", type: "vec4f", via: "texture" },
    y: { access: "read_write", type: "vec4f" },
  },
  params: resizeParams,
  workgroupSize: [WG, 1, 1],
  dispatch: (p) => linearGrid(p.batch * p.out_h * p.out_w, WG),
  minElements: (p) => ({ x: inputCount(p), y: outputCount(p) }),
});

/** Bilinear resize forward, one invocation per output element (per channel quad: `Vec4`). */
export const bilinearKernel = forwardKernelFor("f32");
/** {@link bilinearKernel} over channel quads (channels % 4 == 0): a quarter of the invocations. */
export const bilinearVec4Kernel = forwardKernelFor("vec4f");
/** {@link bilinearVec4Kernel} reading `x` from a texture copy (CPU adapters). */
export const bilinearVec4TextureKernel = forwardKernelFor("vec4f", "texture");

/** Bilinear resize backward, a gather with one invocation per input element. */
export const bilinearBackwardKernel = backwardKernelFor("f32");
/** {@link bilinearBackwardKernel} over channel quads (channels % 4 == 0). */
export const bilinearBackwardVec4Kernel = backwardKernelFor("vec4f");
/** {@link bilinearBackwardVec4Kernel} reading `dy` from a texture copy (CPU adapters). */
export const bilinearBackwardVec4TextureKernel = backwardKernelFor("vec4f", "texture");

/** The kernel's parameters and the kernel: quads when the channels allow. */
const pick = <K>(p: ResizeParams, scalar: K, quads: K): [ResizeParams, K] =>
  p.channels % 4 === 0 ? [{ ...p, channels: p.channels / 4 }, quads] : [p, scalar];

const paramsOf = (
  inputShape: readonly number[],
  outH: number,
  outW: number,
): ResizeParams | BindingError => {
  const [batch, inH, inW, channels] = inputShape;
  if (inputShape.length !== 4 || !(outH >= 1 && outW >= 1) || inH < 1 || inW < 1) {
    return new BindingError({
      kernel: bilinearKernel.name,
      binding: "x",
      reason: `cannot resize [${inputShape.join(", ")}] to ${outH}x${outW}`,
    });
  }
  // PyTorch computes scale = in / out in float for a given size; so do we.
  return {
    batch,
    in_h: inH,
    in_w: inW,
    channels,
    out_h: outH,
    out_w: outW,
    scale_h: inH / outH,
    scale_w: inW / outW,
  };
};

/** Bilinear resize of an NHWC tensor to [N, outH, outW, C] (align_corners=False). */
export const resizeBilinear = (
  x: Tensor<"f32">,
  outH: number,
  outW: number,
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const p = paramsOf(x.shape, outH, outW);
    if (p instanceof BindingError) return yield* p;
    const gpu = yield* Gpu;
    const y = yield* empty([p.batch, outH, outW, p.channels], "f32");
    if (readUniform(gpu.adapter.isFallback, x)) {
      const [values, kernel] = pick(
        p,
        bilinearPixelsUniformKernels.f32,
        bilinearPixelsUniformKernels.vec4f,
      );
      yield* gpu.recorder.dispatch(kernel, { x, y }, values, { X_QUADS: quadsOf(x) });
      return y;
    }
    const textures = readThroughTextures(gpu.adapter.isFallback, x);
    const [values, kernel] = pick(
      p,
      bilinearKernel,
      textures
        ? (gpu.adapter.isFallback ? bilinearPixelsVec4TextureKernel : bilinearVec4TextureKernel)
        : bilinearVec4Kernel,
    );
    yield* gpu.recorder.dispatch(kernel, { x, y }, values);
    return y;
  });

/** Gradient of {@link resizeBilinear}: dy [N, outH, outW, C] back to `inputShape`. */
export const resizeBilinearBackward = (
  dy: Tensor<"f32">,
  inputShape: readonly number[],
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const p = paramsOf(inputShape, dy.shape[1], dy.shape[2]);
    if (p instanceof BindingError) return yield* p;
    const gpu = yield* Gpu;
    const dx = yield* empty(inputShape, "f32");
    const [values, kernel] = pick(
      p,
      bilinearBackwardKernel,
      readThroughTextures(gpu.adapter.isFallback, dy)
        ? bilinearBackwardVec4TextureKernel
        : bilinearBackwardVec4Kernel,
    );
    yield* gpu.recorder.dispatch(kernel, { dy, dx }, values);
    return dx;
  });
