import fc from "fast-check";
import { Effect } from "effect";
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  conv2dBackwardFilter,
  conv2dBackwardInput,
  conv2dForward,
  conv2dGeometry,
  convPath,
  filterKind,
  filterTiling,
  filterTuning,
} from "../../src/ops/conv.ts";
import { conv2dBackwardFilterReference } from "../reference/conv.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import {
  CONV_TILE,
  convTuning,
  tiledPassParams,
  useTiled,
  withConvTuning,
} from "../../src/ops/conv_tiled.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { assertForwardAndInputExact, convCase } from "../support/conv_cases.ts";
import { tracing } from "../support/tracing.ts";

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
const withTiled = <A>(fn: () => Promise<A>): Promise<A> => withConvTuning({ tiledOnCpu: true }, fn);

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
  name:
    "the workgroup-tiled filter gradient is exact, in one pass or split, added into a tensor or not",
  ...gpuTestOptions,
  fn: () =>
    withTiled(async () => {
      const target = filterTuning.cpuTargetInvocations;
      let split = 0;
      try {
        await fc.assert(
          fc.asyncProperty(
            geometries.chain((r) =>
              convCase(r).chain((c) =>
                fc.record({ c: fc.constant(c), before: fc.constant(c.w.map((v) => v - 1)) })
              )
            ),
            async ({ c, before }) => {
              const g = conv2dGeometry(c.input, c.filter, c.options);
              if (filterKind(g) !== "vec4") throw new Error(`vec4 expected: ${JSON.stringify(g)}`);
              const want = conv2dBackwardFilterReference(g, c.x, c.dy);
              // One workgroup's worth of invocations: a single pass; a million: a split per row.
              for (const invocations of [1, 1 << 20]) {
                filterTuning.cpuTargetInvocations = invocations;
                const tiling = filterTiling(g, true);
                if (!tiling.tiled) throw new Error("the tiled kernel was not chosen");
                if (tiling.splits > 1) split++;
                const got = await runGpu(Effect.gen(function* () {
                  const tx = yield* fromArray(c.x, c.input, "f32");
                  const tdy = yield* fromArray(c.dy, [g.batch, g.outH, g.outW, g.outC], "f32");
                  const into = yield* fromArray(before, c.filter, "f32");
                  return {
                    dw: yield* download(yield* conv2dBackwardFilter(tx, tdy, c.filter, c.options)),
                    into: yield* download(
                      yield* conv2dBackwardFilter(tx, tdy, c.filter, c.options, into),
                    ),
                  };
                }));
                const label = `${
                  JSON.stringify(c.options)
                } ${c.input} ${c.filter}, ${tiling.splits} splits`;
                // Integer inputs: every partial sum is exact in f32.
                assertClose(got.dw, want, 0, 0, `${label} dw`);
                assertClose(got.into, want.map((v, i) => v + before[i]), 0, 0, `${label} into`);
              }
            },
          ),
          { seed: 43, numRuns: 25 },
        );
      } finally {
        filterTuning.cpuTargetInvocations = target;
      }
      if (split < 15) throw new Error(`only ${split} of 25 cases split the reduction`);
    }),
});

/** Names of the kernels one forward, input gradient and filter gradient of a 3x3 conv dispatch. */
const kernelsOfPasses = () =>
  runGpu(Effect.gen(function* () {
    const input = [1, 6, 6, 8];
    const filter = [3, 3, 8, 8];
    const x = yield* fromArray(new Float32Array(288), input, "f32");
    const w = yield* fromArray(new Float32Array(576), filter, "f32");
    const traced = yield* tracing(Effect.gen(function* () {
      const y = yield* conv2dForward(x, w, undefined, { padding: 1 });
      yield* conv2dBackwardInput(y, w, input, { padding: 1 });
      yield* conv2dBackwardFilter(x, y, filter, { padding: 1 });
    }));
    return { names: traced.kernels, isFallback: traced.adapter.isFallback };
  }));

Deno.test({
  name: "the tiled kernels serve every pass only where tuned on (a CPU adapter only in tests)",
  ...gpuTestOptions,
  fn: async () => {
    const tiled = (names: string[]) => names.filter((n) => n.includes("_tiled.wgsl")).length;
    const plain = await kernelsOfPasses();
    const expected = plain.isFallback ? convTuning.tiledOnCpu : convTuning.tiledOnGpu;
    assertEquals(useTiled(plain.isFallback), expected);
    assertEquals(convTuning.tiledOnCpu, false);
    assertEquals(tiled(plain.names), expected ? 3 : 0);
    const forced = await withTiled(kernelsOfPasses);
    if (forced.isFallback) assertEquals(tiled(forced.names), 3);
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
