/**
 * Random convolution cases for property tests: a geometry record (channels
 * per group, a square kernel) turned into shapes, options and integer
 * operands, exact in f32 whatever the summation order.
 *
 * @module
 */
import fc from "fast-check";
import { Effect } from "effect";
import {
  conv2dBackwardFilter,
  conv2dBackwardInput,
  conv2dForward,
  conv2dGeometry,
  type Conv2dOptions,
  type ConvGeometry,
} from "../../src/ops/conv.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import type { SeededRng } from "../../src/util/rng.ts";
import { conv2dBackwardInputReference, conv2dForwardReference } from "../reference/conv.ts";
import { smallInts } from "./arbitrary.ts";
import { assertClose, runGpu } from "./gpu.ts";
import { tracing } from "./tracing.ts";

/** A convolution drawn by a test: channels per group, a k x k kernel, an optional bias. */
export interface ConvRecord {
  readonly batch: number;
  readonly h: number;
  readonly w: number;
  readonly inCg: number;
  readonly outCg: number;
  readonly groups: number;
  readonly k: number;
  readonly stride: number;
  readonly dilation: number;
  readonly padding: number;
  readonly bias: boolean;
}

/** A case: NHWC input and HWIO filter shapes, options and integer operands in [-3, 3]. */
export interface ConvCase {
  readonly input: number[];
  readonly filter: number[];
  readonly options: Conv2dOptions;
  readonly x: number[];
  readonly w: number[];
  readonly bias: number[] | undefined;
  readonly dy: number[];
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** The shapes, options and geometry of a record. */
export const convShapes = (
  r: ConvRecord,
): { input: number[]; filter: number[]; options: Conv2dOptions; g: ConvGeometry } => {
  const { input, filter, options } = geometryShapes({ ...r, kh: r.k, kw: r.k });
  return { input, filter, options, g: conv2dGeometry(input, filter, options) };
};

/** Integer operands (input, filter, bias when the record has one, output gradient) for a record. */
export const convCase = (r: ConvRecord): fc.Arbitrary<ConvCase> => {
  const { input, filter, options, g } = convShapes(r);
  return fc.record({
    input: fc.constant(input),
    filter: fc.constant(filter),
    options: fc.constant(options),
    x: smallInts(size(input), -3, 3),
    w: smallInts(size(filter), -3, 3),
    bias: r.bias ? smallInts(g.outC, -3, 3) : fc.constant(undefined),
    dy: smallInts(g.batch * g.outH * g.outW * g.outC, -3, 3),
  });
};

/**
 * Runs a case's forward pass and input gradient on the GPU and checks both
 * against the float64 reference, exactly (integer operands).
 */
export const assertForwardAndInputExact = async (c: ConvCase): Promise<void> => {
  const { input, filter, options, x, w, bias, dy } = c;
  const g = conv2dGeometry(input, filter, options);
  const got = await runGpu(Effect.gen(function* () {
    const tx = yield* fromArray(x, input, "f32");
    const tw = yield* fromArray(w, filter, "f32");
    const tb = bias ? yield* fromArray(bias, [g.outC], "f32") : undefined;
    const tdy = yield* fromArray(dy, [g.batch, g.outH, g.outW, g.outC], "f32");
    return {
      y: yield* download(yield* conv2dForward(tx, tw, tb, options)),
      dx: yield* download(yield* conv2dBackwardInput(tdy, tw, input, options)),
    };
  }));
  const label = JSON.stringify({ input, filter, options, bias: bias !== undefined });
  assertClose(got.y, conv2dForwardReference(g, x, w, bias), 0, 0, `${label} forward`);
  assertClose(got.dx, conv2dBackwardInputReference(g, dy, w), 0, 0, `${label} dx`);
};

/** Float operands of one convolution: input, filter, bias and output gradient. */
export interface ConvOperands {
  readonly x: Float32Array;
  readonly w: Float32Array;
  readonly b: Float32Array;
  readonly dy: Float32Array;
}

/** Operands drawn uniformly from [-1, 1) for a convolution of these shapes and options. */
export const drawOperands = (
  rng: SeededRng,
  input: number[],
  filter: number[],
  options: Conv2dOptions,
): ConvOperands => {
  const g = conv2dGeometry(input, filter, options);
  const draw = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
  return {
    x: draw(size(input)),
    w: draw(size(filter)),
    b: draw(g.outC),
    dy: draw(g.batch * g.outH * g.outW * g.outC),
  };
};

/**
 * The forward pass (with bias), input gradient and filter gradient of one
 * case on the GPU, with the dispatches they made (kernel and constants) and
 * the adapter: tests compare a kernel's forms under two tunings with it.
 */
export const tracedPasses = (
  input: number[],
  filter: number[],
  options: Conv2dOptions,
  data: ConvOperands,
) =>
  runGpu(Effect.gen(function* () {
    const g = conv2dGeometry(input, filter, options);
    const x = yield* fromArray(data.x, input, "f32");
    const w = yield* fromArray(data.w, filter, "f32");
    const b = yield* fromArray(data.b, [g.outC], "f32");
    const dy = yield* fromArray(data.dy, [g.batch, g.outH, g.outW, g.outC], "f32");
    const traced = yield* tracing(Effect.gen(function* () {
      return {
        y: yield* download(yield* conv2dForward(x, w, b, options)),
        dx: yield* download(yield* conv2dBackwardInput(dy, w, input, options)),
        dw: yield* download(yield* conv2dBackwardFilter(x, dy, filter, options)),
      };
    }));
    return { ...traced.result, dispatches: traced.dispatches, adapter: traced.adapter };
  }));

/** A drawn geometry: a {@link ConvRecord}'s, with a kh x kw kernel and no bias. */
export type GeometryRecord = Omit<ConvRecord, "k" | "bias"> & {
  readonly kh: number;
  readonly kw: number;
};

/** Whether a geometry's dilated kernel fits its padded input. */
export const geometryFits = (r: GeometryRecord): boolean =>
  r.h + 2 * r.padding > r.dilation * (r.kh - 1) && r.w + 2 * r.padding > r.dilation * (r.kw - 1);

/** The input shape, HWIO filter shape and options a geometry describes. */
export const geometryShapes = (
  r: GeometryRecord,
): { input: number[]; filter: number[]; options: Conv2dOptions } => ({
  input: [r.batch, r.h, r.w, r.inCg * r.groups],
  filter: [r.kh, r.kw, r.inCg, r.outCg * r.groups],
  options: { stride: r.stride, dilation: r.dilation, padding: r.padding, groups: r.groups },
});

/**
 * Geometries of the register kernels' property tests (vec4 and RGB-stem
 * forms: channels per group 3 to 16 in, 4 to 32 out, groups, strides,
 * dilations, padding, part-empty blocks), with the input, filter and options
 * each describes, and a seed for its operands.
 */
export const registerGeometries = fc.record({
  batch: fc.integer({ min: 1, max: 2 }),
  h: fc.integer({ min: 1, max: 9 }),
  w: fc.integer({ min: 1, max: 11 }),
  inCg: fc.constantFrom(3, 4, 8, 16),
  outCg: fc.constantFrom(4, 12, 16, 32),
  groups: fc.integer({ min: 1, max: 2 }),
  k: fc.integer({ min: 1, max: 3 }),
  stride: fc.integer({ min: 1, max: 2 }),
  dilation: fc.integer({ min: 1, max: 2 }),
  padding: fc.integer({ min: 0, max: 2 }),
  seed: fc.integer({ min: 0, max: 1000 }),
}).map((r) => ({ ...r, kh: r.k, kw: r.k })).filter(geometryFits).map((r) => ({
  ...geometryShapes(r),
  seed: r.seed,
}));
