import fc from "fast-check";
import { Effect } from "effect";
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  conv2dBackwardInput,
  conv2dForward,
  conv2dGeometry,
  type Conv2dOptions,
  convPath,
} from "../../src/ops/conv.ts";
import { withConvTuning } from "../../src/ops/conv_tiled.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { assertForwardAndInputExact, convCase } from "../support/conv_cases.ts";
import { bits, tracing } from "../support/tracing.ts";
import { SeededRng } from "../../src/util/rng.ts";

// Destination channels per group that take 16-channel blocks (16, 32, 48) beside ones that
// cannot (12: 8-channel blocks); widths that leave a row segment part-empty; strides whose
// input gradient visits short phases; rows of at most 4 columns (paired rows).
const geometries = fc.record({
  batch: fc.integer({ min: 1, max: 2 }),
  h: fc.integer({ min: 1, max: 9 }),
  w: fc.integer({ min: 1, max: 11 }),
  inCg: fc.constantFrom(4, 16, 32),
  outCg: fc.constantFrom(12, 16, 32, 48),
  groups: fc.integer({ min: 1, max: 2 }),
  k: fc.integer({ min: 1, max: 3 }),
  stride: fc.integer({ min: 1, max: 3 }),
  dilation: fc.integer({ min: 1, max: 2 }),
  padding: fc.integer({ min: 0, max: 2 }),
  bias: fc.boolean(),
}).filter((r) =>
  r.h + 2 * r.padding > r.dilation * (r.k - 1) &&
  r.w + 2 * r.padding > r.dilation * (r.k - 1)
);

/** Runs `fn` with the register kernel's 16-channel blocks on or off, on any adapter. */
const withBlocks = <A>(wide: boolean, fn: () => Promise<A>): Promise<A> =>
  withConvTuning({ wideOnCpu: wide, wideOnGpu: wide }, fn);

/** The forward and input gradient of float operands, with the QUADS of each vec4 dispatch. */
const passes = (
  input: number[],
  filter: number[],
  options: Conv2dOptions,
  x: Float32Array,
  w: Float32Array,
  dy: Float32Array,
) =>
  runGpu(Effect.gen(function* () {
    const g = conv2dGeometry(input, filter, options);
    const tx = yield* fromArray(x, input, "f32");
    const tw = yield* fromArray(w, filter, "f32");
    const tdy = yield* fromArray(dy, [g.batch, g.outH, g.outW, g.outC], "f32");
    const traced = yield* tracing(Effect.gen(function* () {
      return {
        y: yield* download(yield* conv2dForward(tx, tw, undefined, options)),
        dx: yield* download(yield* conv2dBackwardInput(tdy, tw, input, options)),
      };
    }));
    const quads = traced.dispatches
      .filter((d) => /^shaders\/conv\/conv_(vec4|out4)\.wgsl/.test(d.kernel))
      .map((d) => d.constants.QUADS);
    return { ...traced.result, quads };
  }));

Deno.test({
  name: "the register convolution's 16-channel blocks are exact (forward and input gradient)",
  ...gpuTestOptions,
  fn: () =>
    withBlocks(true, async () => {
      let wide = 0;
      await fc.assert(
        fc.asyncProperty(geometries.chain(convCase), async (c) => {
          const g = conv2dGeometry(c.input, c.filter, c.options);
          if (convPath(g) !== "vec4" || g.kH * g.kW === 1) return;
          if (g.outCg % 16 === 0 || g.inCg % 16 === 0) wide++;
          await assertForwardAndInputExact(c);
        }),
        { seed: 61, numRuns: 40 },
      );
      if (wide < 15) throw new Error(`only ${wide} of 40 cases had a 16-channel pass`);
    }),
});

Deno.test({
  name: "16-channel blocks give the 8-channel blocks' results bit for bit (float operands)",
  ...gpuTestOptions,
  fn: async () => {
    const rng = new SeededRng(7);
    const cases: { input: number[]; filter: number[]; options: Conv2dOptions }[] = [
      { input: [2, 9, 11, 32], filter: [3, 3, 32, 48], options: { padding: 1 } },
      { input: [1, 8, 8, 16], filter: [3, 3, 16, 32], options: { padding: 2, dilation: 2 } },
      { input: [2, 7, 9, 32], filter: [3, 3, 16, 32], options: { stride: 2, groups: 2 } },
      { input: [1, 5, 3, 16], filter: [3, 3, 16, 16], options: { padding: 1 } },
    ];
    for (const { input, filter, options } of cases) {
      const g = conv2dGeometry(input, filter, options);
      const draw = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
      const x = draw(input.reduce((a, b) => a * b, 1));
      const w = draw(filter.reduce((a, b) => a * b, 1));
      const dy = draw(g.batch * g.outH * g.outW * g.outC);
      const wide = await withBlocks(true, () => passes(input, filter, options, x, w, dy));
      const narrow = await withBlocks(false, () => passes(input, filter, options, x, w, dy));
      const label = JSON.stringify({ input, filter, options });
      assertEquals(wide.quads, [4, 4], `${label}: both passes take 16-channel blocks`);
      assertEquals(narrow.quads, [2, 2], `${label}: 8-channel blocks when turned off`);
      assertEquals(bits(wide.y), bits(narrow.y), `${label} forward`);
      assertEquals(bits(wide.dx), bits(narrow.dx), `${label} dx`);
    }
  },
});

Deno.test({
  name: "the RGB stem's 16-channel blocks give its 8-channel blocks' results bit for bit",
  ...gpuTestOptions,
  fn: async () => {
    const rng = new SeededRng(11);
    // Scalar-source forwards (3 channels a group): 16 and 32 destination channels, two groups,
    // a width that leaves the last 8-pixel segment part-empty.
    const cases: { input: number[]; filter: number[]; options: Conv2dOptions }[] = [
      { input: [2, 16, 16, 3], filter: [7, 7, 3, 16], options: { stride: 2, padding: 3 } },
      { input: [1, 9, 13, 3], filter: [3, 3, 3, 32], options: { padding: 1 } },
      { input: [1, 7, 10, 6], filter: [3, 3, 3, 32], options: { groups: 2, dilation: 2 } },
    ];
    for (const { input, filter, options } of cases) {
      const g = conv2dGeometry(input, filter, options);
      const draw = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
      const x = draw(input.reduce((a, b) => a * b, 1));
      const w = draw(filter.reduce((a, b) => a * b, 1));
      const dy = draw(g.batch * g.outH * g.outW * g.outC);
      const wide = await withBlocks(true, () => passes(input, filter, options, x, w, dy));
      const narrow = await withBlocks(false, () => passes(input, filter, options, x, w, dy));
      const label = JSON.stringify({ input, filter, options });
      assertEquals(wide.quads, [4], `${label}: the forward takes 16-channel blocks`);
      assertEquals(narrow.quads, [2], `${label}: 8-channel blocks when turned off`);
      assertEquals(bits(wide.y), bits(narrow.y), `${label} forward`);
    }
  },
});
