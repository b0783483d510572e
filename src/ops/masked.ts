/**
 * Masked sums and means over pixels, and the two-stage column reduction every
 * scalar loss ends with. A tensor x is viewed as [rows, cols] (rows = pixels,
 * cols = channels, 1 for a per-pixel map); a mask [rows] weights each row: an
 * f32 mask by its value, an i32 mask by 1 where it is nonzero and 0 elsewhere.
 *
 * The reduction takes two dispatches (partials per chunk of rows, then totals
 * per column) in a fixed order, so the result is deterministic; it also sums
 * the mask, which is the mean's denominator. On a GPU each stage is a
 * workgroup tree reduction; on a CPU adapter (llvmpipe, where workgroup
 * barriers are costly) each invocation sums its rows in order, over smaller
 * chunks.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import { BindingError, type GpuError } from "../gpu/errors.ts";
import { defineKernel, linearGrid } from "../gpu/kernel.ts";
import { empty, type Shape, type Tensor } from "../tensor/tensor.ts";
import partialsSource from "../../shaders/masked/column_partials.wgsl" with { type: "text" };
import totalsSource from "../../shaders/masked/column_totals.wgsl" with { type: "text" };
import serialPartialsSource from "../../shaders/masked/column_partials_serial.wgsl" with {
  type: "text",
};
import serialTotalsSource from "../../shaders/masked/column_totals_serial.wgsl" with {
  type: "text",
};
import finalizeSource from "../../shaders/masked/finalize.wgsl" with { type: "text" };
import backwardSource from "../../shaders/masked/masked_backward.wgsl" with { type: "text" };

const WG = 256;
/** Rows one workgroup of the first stage reduces (8 per invocation). */
const CHUNK = WG * 8;
/** Rows one invocation of the serial first stage (CPU adapters) sums. */
const SERIAL_CHUNK = 256;
const SERIAL_WG = 64;
const MAX_GROUPS_PER_DIM = 65535;

/** A per-pixel mask: f32 weights, or i32 where nonzero selects the pixel. */
export type Mask = Tensor<"f32"> | Tensor<"i32">;

/** WGSL `mask_weight(r)` for a mask dtype; prepended to kernels that read a mask. */
export const maskWeightWgsl = (dtype: "f32" | "i32"): string =>
  dtype === "f32"
    ? "fn mask_weight(r: u32) -> f32 { return mask[r]; }\n"
    : "fn mask_weight(r: u32) -> f32 { return select(0.0, 1.0, mask[r] != 0i); }\n";

/**
 * A stage-1 kernel for a mask dtype: the workgroup tree reduction (one
 * workgroup per chunk and column) or, `serial`, one invocation per chunk and
 * column summing in order.
 */
const partialsKernelFor = (dtype: "f32" | "i32", serial: boolean) =>
  defineKernel({
    name: `shaders/masked/column_partials${serial ? "_serial" : ""}.wgsl<${dtype}>`,
    source: maskWeightWgsl(dtype) + (serial ? serialPartialsSource : partialsSource),
    bindings: {
      x: { access: "read", type: "f32" },
      mask: { access: "read", type: dtype },
      partials: { access: "read_write", type: "f32" },
    },
    params: { rows: "u32", cols: "u32", chunk: "u32", groups: "u32" },
    constants: { HAS_MASK: "u32" },
    workgroupSize: [serial ? SERIAL_WG : WG, 1, 1],
    dispatch: ({ groups, cols }) =>
      serial ? linearGrid((cols + 1) * groups, SERIAL_WG) : [groups, cols + 1, 1],
    minElements: ({ rows, cols, groups }, { HAS_MASK }) => ({
      x: rows * cols,
      mask: HAS_MASK ? rows : 0,
      partials: (cols + 1) * groups,
    }),
  });

/** Stage 1 of the column reduction, one kernel per mask dtype. */
export const columnPartialsKernels = {
  f32: partialsKernelFor("f32", false),
  i32: partialsKernelFor("i32", false),
} as const;

/** Stage 1 without workgroup memory (CPU adapters), one kernel per mask dtype. */
export const columnPartialsSerialKernels = {
  f32: partialsKernelFor("f32", true),
  i32: partialsKernelFor("i32", true),
} as const;

/** Stage 2 without workgroup memory (CPU adapters): one invocation per column. */
export const columnTotalsSerialKernel = defineKernel({
  name: "shaders/masked/column_totals_serial.wgsl",
  source: serialTotalsSource,
  bindings: {
    partials: { access: "read", type: "f32" },
    totals: { access: "read_write", type: "f32" },
  },
  params: { groups: "u32", cols: "u32" },
  workgroupSize: [SERIAL_WG, 1, 1],
  dispatch: ({ cols }) => linearGrid(cols + 1, SERIAL_WG),
  minElements: ({ groups, cols }) => ({ partials: (cols + 1) * groups, totals: cols + 1 }),
});

/** Stage 2 of the column reduction: one workgroup per column. */
export const columnTotalsKernel = defineKernel({
  name: "shaders/masked/column_totals.wgsl",
  source: totalsSource,
  bindings: {
    partials: { access: "read", type: "f32" },
    totals: { access: "read_write", type: "f32" },
  },
  params: { groups: "u32", cols: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ cols }) => [cols + 1, 1, 1],
  minElements: ({ groups, cols }) => ({ partials: (cols + 1) * groups, totals: cols + 1 }),
});

/** Divides the first `count` totals by the total at `den_index` (or copies them). */
export const finalizeKernel = defineKernel({
  name: "shaders/masked/finalize.wgsl",
  source: finalizeSource,
  bindings: {
    totals: { access: "read", type: "f32" },
    out: { access: "read_write", type: "f32" },
  },
  params: { count: "u32", den_index: "u32" },
  constants: { MEAN: "u32" },
  workgroupSize: [64, 1, 1],
  dispatch: ({ count }) => linearGrid(count, 64),
  minElements: ({ count, den_index }) => ({
    totals: Math.max(count, den_index + 1),
    out: count,
  }),
});

const backwardKernelFor = (dtype: "f32" | "i32") =>
  defineKernel({
    name: `shaders/masked/masked_backward.wgsl<${dtype}>`,
    source: maskWeightWgsl(dtype) + backwardSource,
    bindings: {
      grad: { access: "read", type: "f32" },
      mask: { access: "read", type: dtype },
      totals: { access: "read", type: "f32" },
      dx: { access: "read_write", type: "f32" },
    },
    params: { rows: "u32", cols: "u32" },
    constants: { HAS_MASK: "u32", MEAN: "u32" },
    workgroupSize: [WG, 1, 1],
    dispatch: ({ rows, cols }) => linearGrid(rows * cols, WG),
    minElements: ({ rows, cols }, { HAS_MASK, MEAN }) => ({
      grad: cols,
      mask: HAS_MASK ? rows : 0,
      totals: MEAN ? cols + 1 : 0,
      dx: rows * cols,
    }),
  });

/** Gradient of a masked column sum / mean, one kernel per mask dtype. */
export const maskedBackwardKernels = {
  f32: backwardKernelFor("f32"),
  i32: backwardKernelFor("i32"),
} as const;

const invalid = (kernel: string, binding: string, reason: string) =>
  new BindingError({ kernel, binding, reason });

/**
 * Column totals of `x` viewed as [rows, cols] with each row weighted by `mask`:
 * a [cols + 1] tensor whose last entry is the mask's sum (`rows` without a mask).
 */
export const columnTotals = (
  x: Tensor<"f32">,
  rows: number,
  cols: number,
  mask?: Mask,
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const name = "columnTotals";
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 1) {
      return yield* invalid(name, "x", `bad view [${rows}, ${cols}]`);
    }
    if (cols + 1 > MAX_GROUPS_PER_DIM) {
      return yield* invalid(name, "x", `${cols} columns exceed the dispatch limit`);
    }
    if (mask && mask.elements !== rows) {
      return yield* invalid(name, "mask", `${mask.elements} mask values for ${rows} rows`);
    }
    const gpu = yield* Gpu;
    const serial = gpu.adapter.isFallback;
    const chunk = serial ? SERIAL_CHUNK : CHUNK;
    const groups = Math.max(1, Math.ceil(rows / chunk));
    const partials = yield* empty([cols + 1, groups], "f32");
    const totals = yield* empty([cols + 1], "f32");
    const dtype = mask?.dtype ?? "f32";
    const kernel = serial ? columnPartialsSerialKernels[dtype] : columnPartialsKernels[dtype];
    yield* gpu.recorder.dispatch(
      kernel,
      { x, mask: mask ?? x, partials },
      { rows, cols, chunk, groups },
      { HAS_MASK: mask ? 1 : 0 },
    );
    const totalsKernel = serial ? columnTotalsSerialKernel : columnTotalsKernel;
    yield* gpu.recorder.dispatch(totalsKernel, { partials, totals }, { groups, cols });
    return totals;
  });

/**
 * The first `count` entries of `totals`, divided by `totals[denIndex]` when
 * `mean` (0 where that denominator is 0).
 */
export const finalizeTotals = (
  totals: Tensor<"f32">,
  count: number,
  mean: boolean,
  denIndex: number,
  shape: Shape = [count],
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const out = yield* empty(shape, "f32");
    yield* gpu.recorder.dispatch(
      finalizeKernel,
      { totals, out },
      { count, den_index: denIndex },
      { MEAN: mean ? 1 : 0 },
    );
    return out;
  });

/** A masked reduction over pixels. */
export type MaskedOp = "sum" | "mean";

/** Result of {@link maskedReduce}: the value and the totals its backward needs. */
export interface MaskedResult {
  /** [cols]: per-channel sums or means over the selected pixels. */
  readonly value: Tensor<"f32">;
  /** [cols + 1]: weighted column sums, then the mask's sum. */
  readonly totals: Tensor<"f32">;
}

const viewOf = (x: Tensor, mask: Mask) => {
  const rows = mask.elements;
  const cols = rows > 0 ? x.elements / rows : 0;
  return { rows, cols };
};

/**
 * Sum or mean over pixels of `x` [P, ...] under `mask` [P]: sum_p w_p x_p and
 * sum_p w_p x_p / sum_p w_p, per trailing element (x's size divided by P).
 * The mean of an empty selection is 0.
 */
export const maskedReduce = (
  op: MaskedOp,
  x: Tensor<"f32">,
  mask: Mask,
): Effect.Effect<MaskedResult, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const { rows, cols } = viewOf(x, mask);
    if (rows === 0 || !Number.isInteger(cols) || cols < 1) {
      return yield* invalid(
        "maskedReduce",
        "mask",
        `a mask of ${rows} pixels does not divide x of ${x.elements} elements`,
      );
    }
    const totals = yield* columnTotals(x, rows, cols, mask);
    const value = yield* finalizeTotals(totals, cols, op === "mean", cols);
    return { value, totals };
  });

/** Masked sum over pixels (see {@link maskedReduce}); shape [x.elements / P]. */
export const maskedSum = (x: Tensor<"f32">, mask: Mask) =>
  Effect.map(maskedReduce("sum", x, mask), (r) => r.value);

/** Masked mean over pixels (see {@link maskedReduce}); shape [x.elements / P]. */
export const maskedMean = (x: Tensor<"f32">, mask: Mask) =>
  Effect.map(maskedReduce("mean", x, mask), (r) => r.value);

/**
 * Gradient of {@link maskedReduce} with respect to x (shape `xShape`), from the
 * output gradient `grad` [cols] and the forward's `totals`.
 */
export const maskedReduceBackward = (
  op: MaskedOp,
  grad: Tensor<"f32">,
  mask: Mask,
  totals: Tensor<"f32">,
  xShape: Shape,
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const dx = yield* empty(xShape, "f32");
    const { rows, cols } = viewOf(dx, mask);
    if (rows === 0 || !Number.isInteger(cols) || cols < 1 || grad.elements !== cols) {
      return yield* invalid("maskedReduceBackward", "grad", "shapes of x, mask, grad disagree");
    }
    const gpu = yield* Gpu;
    yield* gpu.recorder.dispatch(
      maskedBackwardKernels[mask.dtype],
      { grad, mask, totals, dx },
      { rows, cols },
      { HAS_MASK: 1, MEAN: op === "mean" ? 1 : 0 },
    );
    return dx;
  });
