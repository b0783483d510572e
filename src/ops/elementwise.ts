/**
 * Elementwise ops on f32 tensors: binary (add, sub, mul, div, max, min with
 * periodic broadcasting of the second operand) and unary (scale-shift, relu,
 * exp, log, neg, abs, sqrt, square).
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import { BindingError, type GpuError } from "../gpu/errors.ts";
import { defineKernel, linearGrid, type ReadVia, viaSuffix } from "../gpu/kernel.ts";
import { readThroughTexturesWithoutAvx512 } from "./texture_reads.ts";
import { empty, type Tensor } from "../tensor/tensor.ts";
import binarySource from "../../shaders/elementwise/binary.wgsl" with { type: "text" };
import unarySource from "../../shaders/elementwise/unary.wgsl" with { type: "text" };
import unaryVec4Source from "../../shaders/elementwise/unary_vec4.wgsl" with { type: "text" };
import axpySource from "../../shaders/elementwise/axpy.wgsl" with { type: "text" };
import binaryVec4Source from "../../shaders/elementwise/binary_vec4.wgsl" with { type: "text" };
import axpyVec4Source from "../../shaders/elementwise/axpy_vec4.wgsl" with { type: "text" };

const WG = 256;
/** Workgroup size of the vec4 variants (a quad per invocation). */
const VEC4_WG = 64;

/** Binary operations, by their OP code in binary.wgsl. */
export const BinaryOp = {
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  max: 4,
  min: 5,
  passWherePositive: 6,
  addRelu: 7,
} as const;
/** Name of a binary operation. */
export type BinaryOpName = keyof typeof BinaryOp;

/** Unary operations, by their OP code in unary.wgsl. */
export const UnaryOp = {
  scaleShift: 0,
  relu: 1,
  exp: 2,
  log: 3,
  neg: 4,
  abs: 5,
  sqrt: 6,
  square: 7,
} as const;
/** Name of a unary operation. */
export type UnaryOpName = keyof typeof UnaryOp;

/** out = a (op) b[i % period]. */
export const binaryKernel = defineKernel({
  name: "shaders/elementwise/binary.wgsl",
  source: binarySource,
  bindings: {
    a: { access: "read", type: "f32" },
    b: { access: "read", type: "f32" },
    out: { access: "read_write", type: "f32" },
  },
  params: { n: "u32", b_period: "u32" },
  constants: { OP: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ n }) => linearGrid(n, WG),
  minElements: ({ n, b_period }) => ({ a: n, b: b_period, out: n }),
});

/**
 * {@link binaryKernel} a quad per invocation (`n` and `b_period` count quads):
 * the same operation on each component, bit-identical, about twice as fast
 * on llvmpipe; `a` and `b` read as `via` says.
 */
const binaryVec4KernelVia = (via: ReadVia) =>
  defineKernel({
    name: `shaders/elementwise/binary_vec4.wgsl${viaSuffix(via)}`,
    source: binaryVec4Source,
    bindings: {
      a: { access: "read", type: "vec4f", via },
      b: { access: "read", type: "vec4f", via },
      out: { access: "read_write", type: "vec4f" },
    },
    params: { n: "u32", b_period: "u32" },
    constants: { OP: "u32" },
    workgroupSize: [VEC4_WG, 1, 1],
    dispatch: ({ n }) => linearGrid(n, VEC4_WG),
    minElements: ({ n, b_period }) => ({ a: n, b: b_period, out: n }),
  });

/** {@link binaryKernel} a quad per invocation, from the buffers. */
export const binaryVec4Kernel = binaryVec4KernelVia("buffer");

/** {@link binaryVec4Kernel} reading `a` and `b` from texture copies (llvmpipe without AVX-512 code). */
export const binaryVec4TextureKernel = binaryVec4KernelVia("texture");

/** out = f(a). */
export const unaryKernel = defineKernel({
  name: "shaders/elementwise/unary.wgsl",
  source: unarySource,
  bindings: {
    a: { access: "read", type: "f32" },
    out: { access: "read_write", type: "f32" },
  },
  params: { n: "u32", alpha: "f32", beta: "f32" },
  constants: { OP: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ n }) => linearGrid(n, WG),
  minElements: ({ n }) => ({ a: n, out: n }),
});

/** {@link unaryKernel} a quad per invocation (`n` counts quads), bit-identical. */
export const unaryVec4Kernel = defineKernel({
  name: "shaders/elementwise/unary_vec4.wgsl",
  source: unaryVec4Source,
  bindings: {
    a: { access: "read", type: "vec4f" },
    out: { access: "read_write", type: "vec4f" },
  },
  params: { n: "u32", alpha: "f32", beta: "f32" },
  constants: { OP: "u32" },
  workgroupSize: [VEC4_WG, 1, 1],
  dispatch: ({ n }) => linearGrid(n, VEC4_WG),
  minElements: ({ n }) => ({ a: n, out: n }),
});

/** y += alpha * x[i % period], in place. */
export const axpyKernel = defineKernel({
  name: "shaders/elementwise/axpy.wgsl",
  source: axpySource,
  bindings: {
    x: { access: "read", type: "f32" },
    y: { access: "read_write", type: "f32" },
  },
  params: { n: "u32", x_period: "u32", alpha: "f32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ n }) => linearGrid(n, WG),
  minElements: ({ n, x_period }) => ({ x: x_period, y: n }),
});

/** {@link axpyKernel} a quad per invocation (`n` and `x_period` count quads), bit-identical. */
export const axpyVec4Kernel = axpyVec4KernelVia("buffer");

/**
 * {@link axpyVec4Kernel} reading `x` and `y` from texture copies (llvmpipe
 * without AVX-512 code); `y` is still written in place.
 */
export const axpyVec4TextureKernel = axpyVec4KernelVia("texture");

/** The quad axpy reading `x` (and, through a snapshot, the old `y`) as `via` says. */
function axpyVec4KernelVia(via: ReadVia) {
  const readY = via === "texture"
    ? "fn read_y(i: u32) -> vec4<f32> { return load_y_in(i); }\n"
    : "fn read_y(i: u32) -> vec4<f32> { return y[i]; }\n";
  return defineKernel({
    name: `shaders/elementwise/axpy_vec4.wgsl${viaSuffix(via)}`,
    source: readY + axpyVec4Source,
    bindings: {
      x: { access: "read", type: "vec4f", via },
      y: { access: "read_write", type: "vec4f" },
      // The texture form reads y from a copy (a buffer cannot be bound both
      // writable and read-only in one dispatch).
      ...(via === "texture"
        ? { y_in: { access: "read", type: "vec4f", via, snapshot: true } } as const
        : {}),
    },
    params: { n: "u32", x_period: "u32", alpha: "f32" },
    workgroupSize: [VEC4_WG, 1, 1],
    dispatch: ({ n }) => linearGrid(n, VEC4_WG),
    minElements: ({ n, x_period }) => ({
      x: x_period,
      y: n,
      ...(via === "texture" ? { y_in: n } : {}),
    }),
  });
}

/**
 * Whether an elementwise op over `n` elements whose second operand repeats
 * every `period` elements runs a quad per invocation: both counts multiples
 * of 4 (every NHWC tensor whose channels are), unless turned off by
 * {@link setElementwiseVec4} (tests run the scalar kernels with it).
 */
const quadsFit = (n: number, period: number): boolean =>
  elementwiseVec4 && n % 4 === 0 && period % 4 === 0;

let elementwiseVec4 = true;

/** Turns the vec4 elementwise kernels on or off and returns the previous setting. */
export const setElementwiseVec4 = (on: boolean): boolean => {
  const previous = elementwiseVec4;
  elementwiseVec4 = on;
  return previous;
};

/** Adds `alpha * x` into `y` in place; `x` may repeat (its count divides y's). */
export const axpyInto = (x: Tensor, y: Tensor, alpha = 1): Effect.Effect<void, GpuError, Gpu> =>
  Effect.gen(function* () {
    if (x.elements === 0 || y.elements % x.elements !== 0) {
      return yield* new BindingError({
        kernel: axpyKernel.name,
        binding: "x",
        reason: `${x.elements} elements do not broadcast over ${y.elements}`,
      });
    }
    const gpu = yield* Gpu;
    if (quadsFit(y.elements, x.elements)) {
      const params = { n: y.elements / 4, x_period: x.elements / 4, alpha };
      if (readThroughTexturesWithoutAvx512(gpu.adapter.isFallback, x, y)) {
        yield* gpu.recorder.dispatch(axpyVec4TextureKernel, { x, y, y_in: y }, params);
      } else {
        yield* gpu.recorder.dispatch(axpyVec4Kernel, { x, y }, params);
      }
      return;
    }
    yield* gpu.recorder.dispatch(axpyKernel, { x, y }, {
      n: y.elements,
      x_period: x.elements,
      alpha,
    });
  });

/**
 * Writes `a (op) b` into `out`. `b` must have as many elements as `a` or a
 * count that divides it (it then repeats: a per-channel vector of an NHWC
 * tensor, or a scalar).
 */
export const binaryInto = (
  op: BinaryOpName,
  a: Tensor,
  b: Tensor,
  out: Tensor,
): Effect.Effect<void, GpuError, Gpu> =>
  Effect.gen(function* () {
    if (b.elements === 0 || a.elements % b.elements !== 0) {
      return yield* new BindingError({
        kernel: binaryKernel.name,
        binding: "b",
        reason: `${b.elements} elements do not broadcast over ${a.elements}`,
      });
    }
    const gpu = yield* Gpu;
    const constants = { OP: BinaryOp[op] };
    if (quadsFit(a.elements, b.elements)) {
      const quads = { n: a.elements / 4, b_period: b.elements / 4 };
      const kernel = readThroughTexturesWithoutAvx512(gpu.adapter.isFallback, a, b)
        ? binaryVec4TextureKernel
        : binaryVec4Kernel;
      yield* gpu.recorder.dispatch(kernel, { a, b, out }, quads, constants);
      return;
    }
    const params = { n: a.elements, b_period: b.elements };
    yield* gpu.recorder.dispatch(binaryKernel, { a, b, out }, params, constants);
  });

/** A new tensor `a (op) b` with `a`'s shape. */
export const binary = (
  op: BinaryOpName,
  a: Tensor<"f32">,
  b: Tensor<"f32">,
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const out = yield* empty(a.shape, "f32");
    yield* binaryInto(op, a, b, out);
    return out;
  });

/** Writes `f(a)` into `out`; `alpha`, `beta` parameterise scaleShift. */
export const unaryInto = (
  op: UnaryOpName,
  a: Tensor,
  out: Tensor,
  alpha = 1,
  beta = 0,
): Effect.Effect<void, GpuError, Gpu> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const constants = { OP: UnaryOp[op] };
    if (elementwiseVec4 && a.elements % 4 === 0) {
      const quads = { n: a.elements / 4, alpha, beta };
      yield* gpu.recorder.dispatch(unaryVec4Kernel, { a, out }, quads, constants);
      return;
    }
    yield* gpu.recorder.dispatch(
      unaryKernel,
      { a, out },
      { n: a.elements, alpha, beta },
      constants,
    );
  });

/** A new tensor `f(a)`. */
export const unary = (
  op: UnaryOpName,
  a: Tensor<"f32">,
  alpha = 1,
  beta = 0,
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const out = yield* empty(a.shape, "f32");
    yield* unaryInto(op, a, out, alpha, beta);
    return out;
  });

/** a + b. */
export const add = (a: Tensor<"f32">, b: Tensor<"f32">) => binary("add", a, b);
/** a - b. */
export const sub = (a: Tensor<"f32">, b: Tensor<"f32">) => binary("sub", a, b);
/** a * b. */
export const mul = (a: Tensor<"f32">, b: Tensor<"f32">) => binary("mul", a, b);
/** alpha * a + beta. */
export const scale = (a: Tensor<"f32">, alpha: number, beta = 0) =>
  unary("scaleShift", a, alpha, beta);
/** max(a, 0). */
export const relu = (a: Tensor<"f32">) => unary("relu", a);
/** e^a. */
export const exp = (a: Tensor<"f32">) => unary("exp", a);
/** ln a. */
export const log = (a: Tensor<"f32">) => unary("log", a);
