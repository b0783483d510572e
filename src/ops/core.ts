/**
 * Fill and strided copy: the ops every other module builds on (zeroing
 * gradients, slicing, concatenation).
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import type { GpuError } from "../gpu/errors.ts";
import { defineKernel, type DType, linearGrid } from "../gpu/kernel.ts";
import { empty, type Shape, type Tensor } from "../tensor/tensor.ts";
import fillSource from "../../shaders/core/fill.wgsl" with { type: "text" };
import copySource from "../../shaders/core/copy.wgsl" with { type: "text" };
import fillVec4Source from "../../shaders/core/fill_vec4.wgsl" with { type: "text" };

const WG = 256;

const fillKernelFor = (dtype: DType) =>
  defineKernel({
    name: `shaders/core/fill.wgsl<${dtype}>`,
    source: `alias Elem = ${dtype};\n${fillSource}`,
    bindings: { out: { access: "read_write", type: dtype } },
    params: { n: "u32", bits: "u32" },
    workgroupSize: [WG, 1, 1],
    dispatch: ({ n }) => linearGrid(n, WG),
    minElements: ({ n }) => ({ out: n }),
  });

/** Workgroup size of the quad fill. */
const QUAD_WG = 64;

/** The f32 fill a quad per invocation (`n` counts quads): a whole gradient arena, say. */
export const fillVec4Kernel = defineKernel({
  name: "shaders/core/fill_vec4.wgsl",
  source: fillVec4Source,
  bindings: { out: { access: "read_write", type: "vec4f" } },
  params: { n: "u32", bits: "u32" },
  workgroupSize: [QUAD_WG, 1, 1],
  dispatch: ({ n }) => linearGrid(n, QUAD_WG),
  minElements: ({ n }) => ({ out: n }),
});

const copyKernelFor = (dtype: DType) =>
  defineKernel({
    name: `shaders/core/copy.wgsl<${dtype}>`,
    source: copySource,
    bindings: {
      src: { access: "read", type: dtype },
      dst: { access: "read_write", type: dtype },
    },
    params: {
      rows: "u32",
      cols: "u32",
      src_offset: "u32",
      src_stride: "u32",
      dst_offset: "u32",
      dst_stride: "u32",
    },
    workgroupSize: [WG, 1, 1],
    dispatch: ({ rows, cols }) => linearGrid(rows * cols, WG),
    minElements: (p) => ({
      src: p.rows === 0 ? 0 : p.src_offset + (p.rows - 1) * p.src_stride + p.cols,
      dst: p.rows === 0 ? 0 : p.dst_offset + (p.rows - 1) * p.dst_stride + p.cols,
    }),
  });

/** The fill kernels, one per dtype. */
export const fillKernels = {
  f32: fillKernelFor("f32"),
  i32: fillKernelFor("i32"),
  u32: fillKernelFor("u32"),
} as const;

/** The strided copy kernels, one per dtype. */
export const copyKernels = {
  f32: copyKernelFor("f32"),
  i32: copyKernelFor("i32"),
  u32: copyKernelFor("u32"),
} as const;

const bitsOf = (value: number, dtype: DType): number => {
  const view = new DataView(new ArrayBuffer(4));
  if (dtype === "f32") view.setFloat32(0, value, true);
  else if (dtype === "i32") view.setInt32(0, value, true);
  else view.setUint32(0, value, true);
  return view.getUint32(0, true);
};

/**
 * Sets every element of `tensor` to `value`: an f32 tensor of whole quads and
 * a value other than NaN a quad per invocation (the stored bits are the same).
 */
export const fillInto = (tensor: Tensor, value: number): Effect.Effect<void, GpuError, Gpu> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const bits = bitsOf(value, tensor.dtype);
    if (tensor.dtype === "f32" && tensor.elements % 4 === 0 && !Number.isNaN(value)) {
      yield* gpu.recorder.dispatch(fillVec4Kernel, { out: tensor }, {
        n: tensor.elements / 4,
        bits,
      });
      return;
    }
    yield* gpu.recorder.dispatch(fillKernels[tensor.dtype], { out: tensor }, {
      n: tensor.elements,
      bits,
    });
  });

/** A new tensor of `shape` filled with `value`. */
export const full = <D extends DType>(
  shape: Shape,
  value: number,
  dtype: D,
): Effect.Effect<Tensor<D>, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const out = yield* empty(shape, dtype);
    yield* fillInto(out, value);
    return out;
  });

/** A new f32 tensor of zeros. */
export const zeros = (shape: Shape): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  full(shape, 0, "f32");

/** A strided block copy (see shaders/core/copy.wgsl); source and target dtypes must match. */
export interface CopyRegion {
  readonly rows: number;
  readonly cols: number;
  readonly srcOffset: number;
  readonly srcStride: number;
  readonly dstOffset: number;
  readonly dstStride: number;
}

/** Copies a strided block of `src` into `dst`. */
export const copyRegion = (
  src: Tensor,
  dst: Tensor,
  region: CopyRegion,
): Effect.Effect<void, GpuError, Gpu> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    yield* gpu.recorder.dispatch(copyKernels[src.dtype], { src, dst }, {
      rows: region.rows,
      cols: region.cols,
      src_offset: region.srcOffset,
      src_stride: region.srcStride,
      dst_offset: region.dstOffset,
      dst_stride: region.dstStride,
    });
  });

/** A new tensor with the same contents as `src`. */
export const clone = <D extends DType>(
  src: Tensor<D>,
): Effect.Effect<Tensor<D>, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const out = yield* empty(src.shape, src.dtype);
    yield* copyRegion(src, out, {
      rows: 1,
      cols: src.elements,
      srcOffset: 0,
      srcStride: 0,
      dstOffset: 0,
      dstStride: 0,
    });
    return out;
  });
