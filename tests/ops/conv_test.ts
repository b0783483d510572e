import fc from "fast-check";
import { Effect } from "effect";
import {
  conv2dBackwardBias,
  conv2dBackwardFilter,
  conv2dBackwardInput,
  conv2dForward,
  conv2dGeometry,
  type Conv2dOptions,
  type ConvGeometry,
  convPath,
} from "../../src/ops/conv.ts";
import {
  conv2dBackwardBiasReference,
  conv2dBackwardFilterReference,
  conv2dBackwardInputReference,
  conv2dForwardReference,
} from "../reference/conv.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, EPS32, gpuTestOptions, runGpu, runGpuResult } from "../support/gpu.ts";
import { seededValues, smallInts } from "../support/arbitrary.ts";

interface Case {
  readonly input: readonly number[];
  readonly filter: readonly number[];
  readonly options: Conv2dOptions;
}

// Channels per group: odd counts (general kernel) and multiples of 4 (vec4 kernel).
const perGroup = fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constantFrom(4, 8, 12));
const axis = fc.integer({ min: 1, max: 9 });

const convCase: fc.Arbitrary<Case> = fc.record({
  batch: fc.integer({ min: 1, max: 2 }),
  h: axis,
  w: axis,
  k: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
  stride: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 })),
  padding: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
  dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
  kind: fc.constantFrom("plain", "grouped", "depthwise", "pointwise"),
  groups: fc.integer({ min: 2, max: 3 }),
  inCg: perGroup,
  outCg: perGroup,
  depthwiseC: fc.constantFrom(4, 5, 8),
}).map((r): Case => {
  if (r.kind === "pointwise") {
    return { input: [r.batch, r.h, r.w, r.inCg], filter: [1, 1, r.inCg, r.outCg], options: {} };
  }
  const groups = r.kind === "plain" ? 1 : r.kind === "depthwise" ? r.depthwiseC : r.groups;
  const inCg = r.kind === "depthwise" ? 1 : r.inCg;
  const outCg = r.kind === "depthwise" ? 1 : r.outCg;
  return {
    input: [r.batch, r.h, r.w, inCg * groups],
    filter: [r.k[0], r.k[1], inCg, outCg * groups],
    options: { stride: r.stride, padding: r.padding, dilation: r.dilation, groups },
  };
}).filter((c) => {
  try {
    conv2dGeometry(c.input, c.filter, c.options);
    return true;
  } catch {
    return false;
  }
});

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const outputShape = (g: ConvGeometry) => [g.batch, g.outH, g.outW, g.outC];

/** Runs all four ops on the GPU. */
const runAll = (
  c: Case,
  g: ConvGeometry,
  data: { x: ArrayLike<number>; w: ArrayLike<number>; b: ArrayLike<number>; dy: ArrayLike<number> },
  withBias: boolean,
) =>
  runGpu(Effect.gen(function* () {
    const x = yield* fromArray(Float32Array.from(data.x), c.input, "f32");
    const w = yield* fromArray(Float32Array.from(data.w), c.filter, "f32");
    const b = yield* fromArray(Float32Array.from(data.b), [g.outC], "f32");
    const dy = yield* fromArray(Float32Array.from(data.dy), outputShape(g), "f32");
    const y = yield* conv2dForward(x, w, withBias ? b : undefined, c.options);
    const dx = yield* conv2dBackwardInput(dy, w, c.input, c.options);
    const dw = yield* conv2dBackwardFilter(x, dy, c.filter, c.options);
    const db = yield* conv2dBackwardBias(dy);
    return {
      y: yield* download(y),
      dx: yield* download(dx),
      dw: yield* download(dw),
      db: yield* download(db),
    };
  }));

/**
 * Compares every output with the float64 reference to within `ulps` of the sum of the
 * |terms| it is a sum of: the reference run on |x|, |w|, |b|, |dy| (convolution is linear in
 * each input). `ulps` 0 asks for exact equality.
 */
const checkAgainstReference = async (
  c: Case,
  data: { x: ArrayLike<number>; w: ArrayLike<number>; b: ArrayLike<number>; dy: ArrayLike<number> },
  withBias: boolean,
  ulps: number,
) => {
  const g = conv2dGeometry(c.input, c.filter, c.options);
  const got = await runAll(c, g, data, withBias);
  const label = `${JSON.stringify(c)} via ${convPath(g)}`;
  const bias = withBias ? data.b : undefined;
  const abs = (v: ArrayLike<number>) => Array.from(v, Math.abs);
  const [x, w, dy] = [abs(data.x), abs(data.w), abs(data.dy)];
  const atol = (terms: ArrayLike<number>) => Array.from(terms, (t) => ulps * t);
  assertClose(
    got.y,
    conv2dForwardReference(g, data.x, data.w, bias),
    atol(conv2dForwardReference(g, x, w, bias && abs(bias))),
    0,
    `y ${label}`,
  );
  assertClose(
    got.dx,
    conv2dBackwardInputReference(g, data.dy, data.w),
    atol(conv2dBackwardInputReference(g, dy, w)),
    0,
    `dx ${label}`,
  );
  assertClose(
    got.dw,
    conv2dBackwardFilterReference(g, data.x, data.dy),
    atol(conv2dBackwardFilterReference(g, x, dy)),
    0,
    `dw ${label}`,
  );
  assertClose(
    got.db,
    conv2dBackwardBiasReference(g.outC, data.dy),
    atol(conv2dBackwardBiasReference(g.outC, dy)),
    0,
    `db ${label}`,
  );
};

Deno.test({
  name: "conv2d forward, input, filter and bias gradients match the references exactly",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(
        convCase.chain((c) => {
          const g = conv2dGeometry(c.input, c.filter, c.options);
          return fc.record({
            c: fc.constant(c),
            x: smallInts(size(c.input), -3, 3),
            w: smallInts(size(c.filter), -3, 3),
            b: smallInts(g.outC, -3, 3),
            dy: smallInts(size(outputShape(g)), -3, 3),
            withBias: fc.boolean(),
          });
        }),
        // Integer inputs: every partial sum is exact in f32, so any tiling must agree.
        async ({ c, withBias, ...data }) => await checkAgainstReference(c, data, withBias, 0),
      ),
      { seed: 42, numRuns: 80 },
    );
  },
});

// Shapes that take the unchecked ("fits") vec4 variant, the stride-phase input
// gradient with whole tiles, the multi-split filter gradient, pointwise
// (vec4 and matmul), depthwise, grouped, and an RGB stem (scalar source loads).
const floatCases: readonly Case[] = [
  { input: [2, 16, 16, 16], filter: [3, 3, 16, 16], options: { padding: 1 } },
  { input: [2, 16, 32, 8], filter: [3, 3, 8, 16], options: { padding: 1, stride: 2 } },
  { input: [1, 12, 16, 16], filter: [3, 3, 16, 8], options: { padding: 2, dilation: 2 } },
  { input: [2, 8, 8, 12], filter: [1, 1, 12, 20], options: {} },
  { input: [2, 8, 8, 5], filter: [1, 1, 5, 7], options: {} },
  { input: [2, 9, 16, 16], filter: [3, 3, 1, 16], options: { padding: 1, groups: 16 } },
  { input: [2, 9, 16, 16], filter: [3, 3, 4, 16], options: { padding: 1, groups: 4 } },
  { input: [2, 9, 13, 9], filter: [3, 3, 3, 15], options: { padding: 1, stride: 2, groups: 3 } },
  { input: [2, 11, 10, 3], filter: [5, 5, 3, 8], options: { padding: 2, stride: 2 } },
];

Deno.test({
  name: "conv2d on float data is within f32 rounding of the float64 reference on every path",
  ...gpuTestOptions,
  fn: async () => {
    const paths = new Set<string>();
    for (const [i, c] of floatCases.entries()) {
      const g = conv2dGeometry(c.input, c.filter, c.options);
      paths.add(convPath(g));
      const data = {
        x: seededValues(size(c.input), 10 + i),
        w: seededValues(size(c.filter), 20 + i),
        b: seededValues(g.outC, 30 + i),
        dy: seededValues(size(outputShape(g)), 40 + i),
      };
      // Tiled partial sums round differently from float64's: 16 ulps of the |terms|' sum.
      await checkAgainstReference(c, data, true, 16 * EPS32);
    }
    if (paths.size !== 4) throw new Error(`paths covered: ${[...paths]}`);
  },
});

Deno.test({
  name: "conv2d rejects inconsistent groups and a dy of the wrong shape",
  ...gpuTestOptions,
  fn: async () => {
    const groupsMismatch = await runGpuResult(Effect.gen(function* () {
      const x = yield* fromArray(new Float32Array(2 * 4 * 4 * 6), [2, 4, 4, 6], "f32");
      const w = yield* fromArray(new Float32Array(9 * 3 * 4), [3, 3, 3, 4], "f32");
      return yield* conv2dForward(x, w, undefined, { groups: 3 });
    }));
    if (groupsMismatch._tag !== "Failure") throw new Error("groups mismatch accepted");
    const badDy = await runGpuResult(Effect.gen(function* () {
      const dy = yield* fromArray(new Float32Array(2 * 3 * 3 * 4), [2, 3, 3, 4], "f32");
      const w = yield* fromArray(new Float32Array(9 * 6 * 4), [3, 3, 6, 4], "f32");
      return yield* conv2dBackwardInput(dy, w, [2, 4, 4, 6], { padding: 1 });
    }));
    if (badDy._tag !== "Failure") throw new Error("wrong dy shape accepted");
  },
});
