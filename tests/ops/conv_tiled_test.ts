import fc from "fast-check";
import { Effect } from "effect";
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { conv2dGeometry, convPath } from "../../src/ops/conv.ts";
import { CONV_TILE, convTuning, tiledPassParams, useTiled } from "../../src/ops/conv_tiled.ts";
import { Gpu } from "../../src/gpu/device.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { assertForwardAndInputExact, convCase } from "../support/conv_cases.ts";

// Channel counts around the 16-channel chunk and the 64-channel tile, pixel
// counts that leave a tile part-empty, strides whose last phase is short.
const geometries = fc.record({
  batch: fc.integer({ min: 1, max: 2 }),
  h: fc.integer({ min: 1, max: 9 }),
  w: fc.integer({ min: 1, max: 11 }),
  inCg: fc.constantFrom(4, 8, 20, 36),
  outCg: fc.constantFrom(4, 12, 68),
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

/** Runs `fn` with the tiled kernel serving the CPU adapter's vec4 passes. */
const withTiled = async <A>(fn: () => Promise<A>): Promise<A> => {
  const before = convTuning.tiledOnCpu;
  convTuning.tiledOnCpu = true;
  try {
    return await fn();
  } finally {
    convTuning.tiledOnCpu = before;
  }
};

Deno.test({
  name: "the workgroup-tiled convolution (forward and input gradient) is exact",
  ...gpuTestOptions,
  fn: () =>
    withTiled(async () => {
      let tiled = 0;
      await fc.assert(
        fc.asyncProperty(
          geometries.chain(convCase),
          async (c) => {
            const g = conv2dGeometry(c.input, c.filter, c.options);
            if (convPath(g) !== "vec4" || g.kH * g.kW === 1) return;
            tiled++;
            await assertForwardAndInputExact(c);
          },
        ),
        { seed: 41, numRuns: 30 },
      );
      if (tiled < 15) throw new Error(`only ${tiled} of 30 cases took the tiled kernel`);
    }),
});

Deno.test({
  name: "the tiled convolution serves a GPU only when tuned on, a CPU adapter only in tests",
  ...gpuTestOptions,
  fn: async () => {
    const isFallback = await runGpu(Effect.map(Gpu, (gpu) => gpu.adapter.isFallback));
    assertEquals(useTiled(isFallback), isFallback ? convTuning.tiledOnCpu : convTuning.tiledOnGpu);
    assertEquals(convTuning.tiledOnCpu, false);
  },
});

Deno.test("tiled pass parameters cover every destination pixel and channel tile", () => {
  const g = conv2dGeometry([2, 9, 11, 72], [3, 3, 36, 136], { stride: 3, padding: 1, groups: 2 });
  const forward = tiledPassParams(
    g,
    { h: 9, w: 11, c: 72, cg: 36 },
    { h: g.outH, w: g.outW, c: 136, cg: 68 },
    0,
  );
  assertEquals(forward.pixels, 2 * g.outH * g.outW);
  assertEquals(forward.m_tiles, Math.ceil(forward.pixels / CONV_TILE.pixels));
  assertEquals(forward.n_tiles, 2 * 2); // two groups of 68 channels: two 64-channel tiles each
  const backward = tiledPassParams(
    g,
    { h: g.outH, w: g.outW, c: 136, cg: 68 },
    { h: 9, w: 11, c: 72, cg: 36 },
    1,
  );
  // Three stride phases of ceil(11 / 3) = 4 columns; the last phase has only 3.
  assertEquals(backward.cols, 4);
  assertEquals(backward.pixels, 2 * 9 * 3 * 4);
  assertEquals(backward.n_tiles, 2);
});
