/**
 * Batched matrix multiplication with optional transposes and accumulation.
 * Two kernels: an 8x8-per-invocation vec4 kernel for aligned shapes (the
 * fast path: register tiling is what decides speed, on llvmpipe too) and a
 * general 4x4 scalar kernel for everything else. For large B the vec4 kernel
 * reads a copy packed into 64-column panels (one sequential stream per panel).
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import { BindingError, type GpuError } from "../gpu/errors.ts";
import { defineKernel, fitsTexture, linearGrid, type ReadVia, viaSuffix } from "../gpu/kernel.ts";
import { empty, release, type Tensor } from "../tensor/tensor.ts";
import { envFlag } from "../util/env.ts";
import vec4Source from "../../shaders/matmul/matmul_vec4.wgsl" with { type: "text" };
import storeVec4Source from "../../shaders/matmul/matmul_store_vec4.wgsl" with { type: "text" };
import storeScalarSource from "../../shaders/matmul/matmul_store_scalar.wgsl" with {
  type: "text",
};
import generalSource from "../../shaders/matmul/matmul.wgsl" with { type: "text" };
import packBSource from "../../shaders/matmul/pack_b.wgsl" with { type: "text" };

const params = {
  m: "u32",
  n: "u32",
  k: "u32",
  batch: "u32",
  stride_a: "u32",
  stride_b: "u32",
  stride_c: "u32",
  accumulate: "u32",
} as const;

/** The vec4 kernels' parameters: stored row lengths and B's panel stride. */
const vec4Params = {
  ...params,
  lda: "u32",
  ldb: "u32",
  b_panel: "u32",
  b_cols: "u32",
} as const;

type Vec4Params = { [K in keyof typeof vec4Params]: number };

const WG_X = 8;
const WG_Y = 8;

type MatmulParams = { [K in keyof typeof params]: number };

const minElements = (p: MatmulParams) => ({
  a: (p.batch - 1) * p.stride_a + p.m * p.k,
  b: (p.batch - 1) * p.stride_b + p.k * p.n,
  c_out: (p.batch - 1) * p.stride_c + p.m * p.n,
});

const vec4Options = {
  params: vec4Params,
  constants: {
    TRANS_A: "u32",
    TRANS_B: "u32",
    COL_QUADS: "u32",
    WG_COLS: "u32",
    COLUMN_ORDER: "u32",
    ROW_BLOCKS: "u32",
  },
  // 64 invocations over WG_COLS x floor(64 / WG_COLS) blocks: narrow C keeps the lanes busy.
  workgroupSize: [64, 1, 1],
  dispatch: (
    p: Vec4Params,
    c: { COL_QUADS: number; WG_COLS: number; ROW_BLOCKS: number },
  ): [number, number, number] => [
    Math.ceil(p.n / (4 * c.COL_QUADS * c.WG_COLS)),
    Math.ceil(p.m / (8 * c.ROW_BLOCKS * Math.floor(64 / c.WG_COLS))),
    p.batch,
  ],
  minElements: (p: Vec4Params, c: { TRANS_A: number; TRANS_B: number }) => ({
    a: (p.batch - 1) * p.stride_a + (c.TRANS_A ? p.k : p.m) * p.lda,
    // In place a panel starts 64 floats after the previous one; packed, K * 64 after.
    b: (p.batch - 1) * p.stride_b +
      (c.TRANS_B ? p.n * p.ldb : p.b_panel === 64 ? p.k * p.ldb : Math.ceil(p.n / 64) * p.b_panel),
    c_out: (p.batch - 1) * p.stride_c + p.m * p.n,
  }),
} as const;

/** The vec4 kernel with vec4 or scalar stores, reading A and B as `via` says. */
const matmulVec4KernelFor = (stores: "vec4" | "scalar", via: ReadVia) =>
  defineKernel({
    name: `shaders/matmul/matmul_vec4.wgsl${stores === "scalar" ? "+scalar stores" : ""}${
      viaSuffix(via)
    }`,
    source: vec4Source + (stores === "vec4" ? storeVec4Source : storeScalarSource),
    bindings: {
      a: { access: "read", type: "vec4f", via },
      b: { access: "read", type: "vec4f", via },
      c_out: { access: "read_write", type: stores === "vec4" ? "vec4f" : "f32" },
    },
    ...vec4Options,
  });

/** 8 (or 16) x 4 COL_QUADS outputs per invocation from vec4 loads, vec4 stores (N % 4 == 0). */
export const matmulVec4Kernel = matmulVec4KernelFor("vec4", "buffer");

/** The vec4 kernel with scalar stores, for N % 4 != 0 (B transposed). */
export const matmulVec4ScalarStoreKernel = matmulVec4KernelFor("scalar", "buffer");

/** {@link matmulVec4Kernel} reading A and B from texture copies (CPU adapters). */
export const matmulVec4TextureKernel = matmulVec4KernelFor("vec4", "texture");

/** {@link matmulVec4ScalarStoreKernel} reading A and B from texture copies (CPU adapters). */
export const matmulVec4ScalarStoreTextureKernel = matmulVec4KernelFor("scalar", "texture");

/** Packs B into 64-column panels, each a sequential [K, 64] block (see pack_b.wgsl). */
export const packBKernel = defineKernel({
  name: "shaders/matmul/pack_b.wgsl",
  source: packBSource,
  bindings: { src: { access: "read", type: "f32" }, dst: { access: "read_write", type: "vec4f" } },
  params: { k: "u32", n: "u32", batch: "u32", stride_b: "u32", panels_stride: "u32" },
  constants: { TRANS_B: "u32" },
  workgroupSize: [64, 1, 1],
  dispatch: (p) => linearGrid(p.batch * p.panels_stride / 4, 64),
  minElements: (p) => ({
    src: (p.batch - 1) * p.stride_b + p.k * p.n,
    dst: p.batch * p.panels_stride,
  }),
});

/** 4x4 outputs per invocation, any shape. */
export const matmulGeneralKernel = defineKernel({
  name: "shaders/matmul/matmul.wgsl",
  source: generalSource,
  bindings: {
    a: { access: "read", type: "f32" },
    b: { access: "read", type: "f32" },
    c_out: { access: "read_write", type: "f32" },
  },
  params,
  constants: { TRANS_A: "u32", TRANS_B: "u32" },
  workgroupSize: [WG_X, WG_Y, 1],
  dispatch: (p) => [Math.ceil(p.n / (4 * WG_X)), Math.ceil(p.m / (4 * WG_Y)), p.batch],
  minElements,
});

/** Shape and layout of one batched product C = op(A) op(B). */
export interface MatmulSpec {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** Number of products; operands advance by their stride per product (0 broadcasts). */
  readonly batch?: number;
  readonly transA?: boolean;
  readonly transB?: boolean;
  readonly strideA?: number;
  readonly strideB?: number;
  readonly strideC?: number;
  /** Add into C instead of overwriting it (gradient accumulation). */
  readonly accumulate?: boolean;
}

/** Whether the vec4 kernel applies: every vec4-loaded row length and stride divisible by 4. */
export const fitsVec4 = (p: MatmulParams, transA: boolean, transB: boolean): boolean =>
  p.k % 4 === 0 &&
  (!transA || p.m % 4 === 0) &&
  (transB || p.n % 4 === 0) &&
  p.stride_a % 4 === 0 &&
  p.stride_b % 4 === 0;

/** Records C = op(A) op(B) into an existing tensor `c`. */
export const matmulInto = (
  a: Tensor<"f32">,
  b: Tensor<"f32">,
  c: Tensor<"f32">,
  spec: MatmulSpec,
): Effect.Effect<void, GpuError, Gpu> =>
  Effect.gen(function* () {
    const batch = spec.batch ?? 1;
    const p: MatmulParams = {
      m: spec.m,
      n: spec.n,
      k: spec.k,
      batch,
      stride_a: spec.strideA ?? spec.m * spec.k,
      stride_b: spec.strideB ?? spec.k * spec.n,
      stride_c: spec.strideC ?? spec.m * spec.n,
      accumulate: spec.accumulate ? 1 : 0,
    };
    if ([p.m, p.n, p.k, batch].some((d) => !Number.isInteger(d) || d < 1)) {
      return yield* new BindingError({
        kernel: "matmul",
        binding: "a",
        reason: `invalid matmul sizes m=${p.m} n=${p.n} k=${p.k} batch=${batch}`,
      });
    }
    const transA = spec.transA ?? false;
    const transB = spec.transB ?? false;
    const constants = { TRANS_A: transA ? 1 : 0, TRANS_B: transB ? 1 : 0 };
    const gpu = yield* Gpu;
    // Packing reads B element by element: any N and B stride suit the vec4 kernel then.
    // Read through textures, B in place is as fast as packed (1.0-1.35x on llvmpipe).
    const pack = p.k % 4 === 0 &&
      ((matmulTuning.packB(p) && !matmulTextures(gpu.adapter.isFallback, a, b)) ||
        (!transB && p.n % 4 !== 0));
    const fitsPacked = fitsVec4({ ...p, n: 4, stride_b: 0 }, transA, false);
    if (pack ? !fitsPacked : !fitsVec4(p, transA, transB)) {
      yield* gpu.recorder.dispatch(matmulGeneralKernel, { a, b, c_out: c }, p, constants);
    } else {
      yield* recordVec4(a, b, c, p, transA, transB, pack);
    }
  });

/** Blocks of C an invocation's stacked rows must leave, so every core has work (ROW_BLOCKS). */
const MIN_TALL_BLOCKS = 256;

/** Tuning of the vec4 path; a benchmark may change it to compare variants in one run. */
export const matmulTuning = {
  /**
   * Whether B is packed into 64-column panels first (pack_b.wgsl): at
   * 1024^3 on llvmpipe 1.3x, at [2048, 256] x [256, 256] 1.05x; with 64
   * columns or fewer the panel is B itself, and with K = 64 B stays cached.
   * (B [K, N] with N % 4 != 0 is always packed: the vec4 kernel needs quads.)
   */
  packB: (p: { n: number; k: number }): boolean => p.n >= 128 && p.k >= 128,
  /**
   * Column quads per invocation's block: 4 (8x16; 1.1-1.4x on llvmpipe at
   * N = 16 ... 1024) unless 8x8 blocks waste fewer columns of a narrow C
   * (a 21-class classifier: 24 columns computed instead of 32).
   */
  colQuads: (p: { n: number }): number =>
    p.n >= 128 || Math.ceil(p.n / 16) * 16 <= Math.ceil(p.n / 8) * 8 ? 4 : 2,
  /**
   * A and B read from texture copies on a CPU adapter (llvmpipe gathers texels
   * but loads storage buffers lane by lane; bench/texture_loads.ts);
   * `GSC_MATMUL_BUFFERS=1` turns it off for a process.
   */
  texturesOnCpu: !envFlag("GSC_MATMUL_BUFFERS"),
  /** The same on a GPU: off until measured there; `GSC_MATMUL_TEXTURES=1` turns it on. */
  texturesOnGpu: envFlag("GSC_MATMUL_TEXTURES"),
  /**
   * Workgroups walk C's blocks down columns (matmul_vec4.wgsl COLUMN_ORDER):
   * where B holds 2 MiB or more, consecutive workgroups then reuse B's block
   * from cache. 1024^3 on llvmpipe: 26.2 GFLOP/s against 25.2 row by row, in
   * all four interleaved rounds; smaller B gains nothing, so it keeps rows.
   */
  columnOrder: (p: { n: number; k: number }): boolean => p.k * p.n >= 1 << 19,
  /**
   * 8-row blocks an invocation stacks on B's loads (matmul_vec4.wgsl
   * ROW_BLOCKS) on a CPU adapter: 4 (32 rows) where C has at least
   * {@link MIN_TALL_BLOCKS} such blocks of 16 columns, else 2 where it has that
   * many of 16 rows, A not transposed; otherwise 1. llvmpipe's gathers, not
   * its FMAs, decide its speed, and a taller block loads B once for more rows
   * (2-core AMD EPYC, bench/matmul.ts's shapes of 16 columns or more,
   * interleaved: 16 rows 1.10-1.25x over 8, 32 rows 1.11x over 16 at 1024^3;
   * A transposed 0.97-1.01x). A GPU keeps 8 rows: the accumulators would
   * spill there.
   */
  rowBlocks: (
    p: { m: number; n: number },
    isFallback: boolean,
    colQuads: number,
    transA: boolean,
  ): 1 | 2 | 4 => {
    if (!isFallback || !matmulTuning.tallOnCpu || colQuads !== 4 || transA) return 1;
    const blocks = (rows: number) => Math.ceil(p.m / rows) * Math.ceil(p.n / 16);
    return blocks(32) >= MIN_TALL_BLOCKS ? 4 : blocks(16) >= MIN_TALL_BLOCKS ? 2 : 1;
  },
  /** Whether {@link matmulTuning.rowBlocks} may stack blocks; `GSC_MATMUL_EIGHT_ROWS=1` turns it off. */
  tallOnCpu: !envFlag("GSC_MATMUL_EIGHT_ROWS"),
};

/** Whether the vec4 kernel reads `a` and `b` through texture copies on this adapter. */
const matmulTextures = (isFallback: boolean, a: Tensor<"f32">, b: Tensor<"f32">): boolean =>
  (isFallback ? matmulTuning.texturesOnCpu : matmulTuning.texturesOnGpu) &&
  fitsTexture(a) && fitsTexture(b);

/** Records the vec4 kernel, on B packed into panels where {@link matmulTuning} says. */
const recordVec4 = (
  a: Tensor<"f32">,
  b: Tensor<"f32">,
  c: Tensor<"f32">,
  p: MatmulParams,
  transA: boolean,
  transB: boolean,
  pack: boolean,
): Effect.Effect<void, GpuError, Gpu> =>
  Effect.scoped(Effect.gen(function* () {
    const gpu = yield* Gpu;
    const constants = { TRANS_A: transA ? 1 : 0, TRANS_B: transB ? 1 : 0 };
    const quadStores = p.n % 4 === 0 && p.stride_c % 4 === 0;
    let ldb = transB ? p.k : p.n;
    let strideB = p.stride_b;
    let bPanel = 64;
    let packed = false;
    let bound = b;
    if (pack) {
      const batches = p.stride_b === 0 ? 1 : p.batch;
      const panelsStride = Math.ceil(p.n / 64) * 64 * p.k;
      bound = yield* empty([batches * panelsStride], "f32");
      yield* gpu.recorder.dispatch(packBKernel, { src: b, dst: bound }, {
        k: p.k,
        n: p.n,
        batch: batches,
        stride_b: p.stride_b,
        panels_stride: panelsStride,
      }, { TRANS_B: constants.TRANS_B });
      packed = true;
      ldb = 64;
      bPanel = 64 * p.k;
      strideB = p.stride_b === 0 ? 0 : panelsStride;
    }
    const v: Vec4Params = {
      ...p,
      stride_b: strideB,
      lda: transA ? p.m : p.k,
      ldb,
      b_panel: bPanel,
      b_cols: packed ? Math.ceil(p.n / 64) * 64 : p.n,
    };
    const bindings = { a, b: bound, c_out: c };
    const colQuads = matmulTuning.colQuads(p);
    const used = {
      ...constants,
      TRANS_B: packed ? 0 : constants.TRANS_B,
      COL_QUADS: colQuads,
      WG_COLS: Math.min(8, Math.ceil(p.n / (4 * colQuads))),
      COLUMN_ORDER: matmulTuning.columnOrder(p) ? 1 : 0,
      ROW_BLOCKS: matmulTuning.rowBlocks(p, gpu.adapter.isFallback, colQuads, transA),
    };
    const textures = matmulTextures(gpu.adapter.isFallback, a, bound);
    yield* quadStores
      ? gpu.recorder.dispatch(
        textures ? matmulVec4TextureKernel : matmulVec4Kernel,
        bindings,
        v,
        used,
      )
      : gpu.recorder.dispatch(
        textures ? matmulVec4ScalarStoreTextureKernel : matmulVec4ScalarStoreKernel,
        bindings,
        v,
        used,
      );
    if (bound !== b) yield* release(bound);
  }));

/** C = op(A) op(B) as a new [batch?, m, n] tensor (2-D when batch is 1). */
export const matmul = (
  a: Tensor<"f32">,
  b: Tensor<"f32">,
  spec: MatmulSpec,
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const batch = spec.batch ?? 1;
    const c = yield* empty(batch === 1 ? [spec.m, spec.n] : [batch, spec.m, spec.n], "f32");
    yield* matmulInto(a, b, c, { ...spec, accumulate: false });
    return c;
  });
