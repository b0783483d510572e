/**
 * One-dispatch concatenation and its backward: kernels for a chunk of n
 * inputs (n <= {@link MAX_BLOCKS}, so that n + 1 storage buffers stay within
 * WebGPU's default limit of 8 per stage), generated per n and dtype around
 * shaders/core/{concat,split}_blocks.wgsl.
 *
 * @module
 */
import {
  defineKernel,
  type DType,
  type Kernel,
  linearGrid,
  type ScalarType,
} from "../gpu/kernel.ts";
import concatSource from "../../shaders/core/concat_blocks.wgsl" with { type: "text" };
import splitSource from "../../shaders/core/split_blocks.wgsl" with { type: "text" };

/** Inputs one dispatch concatenates (or splits back). */
export const MAX_BLOCKS = 7;

const WG = 256;

const range = (n: number) => Array.from({ length: n }, (_, k) => k);

/** Parameters: outer rows, the output's row length, the chunk's span and base, w_k, o_k (k > 0). */
const blockParams = (n: number): Record<string, ScalarType> => {
  const params: Record<string, ScalarType> = {
    outer: "u32",
    total: "u32",
    span: "u32",
    base: "u32",
  };
  for (const k of range(n)) params[`w${k}`] = "u32";
  for (const k of range(n).slice(1)) params[`o${k}`] = "u32";
  return params;
};

/** The WGSL index of chunk column c in input k's row. */
const indexIn = (k: number) =>
  k === 0 ? "row * params.w0 + c" : `row * params.w${k} + c - params.o${k}`;

/** `block_read`: the input whose block holds chunk column c, read at row. */
const readFunction = (n: number, dtype: DType): string =>
  [
    `fn block_read(row: u32, c: u32) -> ${dtype} {`,
    ...range(n - 1).map((k) => `  if (c < params.o${k + 1}) { return s${k}[${indexIn(k)}]; }`),
    `  return s${n - 1}[${indexIn(n - 1)}];`,
    "}",
  ].join("\n");

/** `block_write`: v written to the input whose block holds chunk column c. */
const writeFunction = (n: number, dtype: DType): string =>
  [
    `fn block_write(row: u32, c: u32, v: ${dtype}) {`,
    ...range(n - 1).map((k) => `  if (c < params.o${k + 1}) { d${k}[${indexIn(k)}] = v; return; }`),
    `  d${n - 1}[${indexIn(n - 1)}] = v;`,
    "}",
  ].join("\n");

type BlockValues = Record<string, number>;

const concatKernelFor = (n: number, dtype: DType): Kernel =>
  defineKernel({
    name: `shaders/core/concat_blocks.wgsl<${dtype}, ${n}>`,
    source: `${readFunction(n, dtype)}\n${concatSource}`,
    bindings: {
      ...Object.fromEntries(range(n).map((k) => [`s${k}`, { access: "read", type: dtype }])),
      dst: { access: "read_write", type: dtype },
    },
    params: blockParams(n),
    workgroupSize: [WG, 1, 1],
    dispatch: (p: BlockValues) => linearGrid(p.outer * p.span, WG),
    minElements: (p: BlockValues) => ({
      ...Object.fromEntries(range(n).map((k) => [`s${k}`, p.outer * p[`w${k}`]])),
      dst: p.outer * p.total,
    }),
  });

const splitKernelFor = (n: number, dtype: DType): Kernel =>
  defineKernel({
    name: `shaders/core/split_blocks.wgsl<${dtype}, ${n}>`,
    source: `${writeFunction(n, dtype)}\n${splitSource}`,
    bindings: {
      src: { access: "read", type: dtype },
      ...Object.fromEntries(range(n).map((k) => [`d${k}`, { access: "read_write", type: dtype }])),
    },
    params: blockParams(n),
    workgroupSize: [WG, 1, 1],
    dispatch: (p: BlockValues) => linearGrid(p.outer * p.span, WG),
    minElements: (p: BlockValues) => ({
      src: p.outer * p.total,
      ...Object.fromEntries(range(n).map((k) => [`d${k}`, p.outer * p[`w${k}`]])),
    }),
  });

const cache = new Map<string, Kernel>();

/** The kernel concatenating a chunk of `n` inputs of `dtype` (or, `split`, its backward). */
export const blockKernel = (n: number, dtype: DType, split: boolean): Kernel => {
  const key = `${split ? "split" : "concat"} ${dtype} ${n}`;
  let kernel = cache.get(key);
  if (!kernel) {
    kernel = split ? splitKernelFor(n, dtype) : concatKernelFor(n, dtype);
    cache.set(key, kernel);
  }
  return kernel;
};

/** The parameters of a chunk: input widths, the chunk's start column in the output row. */
export const blockValues = (
  outer: number,
  total: number,
  base: number,
  widths: readonly number[],
): BlockValues => {
  const values: BlockValues = { outer, total, base, span: widths.reduce((a, b) => a + b, 0) };
  let offset = 0;
  widths.forEach((w, k) => {
    values[`w${k}`] = w;
    if (k > 0) values[`o${k}`] = offset;
    offset += w;
  });
  return values;
};
