/**
 * The register kernels' stacked blocks (conv_vec4.wgsl HALVES = 2: two pixel
 * blocks sharing the filter's loads; filter_vec4.wgsl CI_BLOCKS = 2 or 4:
 * blocks of input channels sharing dy's) give the one-block results bit for
 * bit: forward, input gradient and filter gradient over random geometries
 * with an odd number of blocks (later blocks missing), blocks at a group's
 * end, padding rows one block skips and the other reads, strides, dilations
 * and groups. The default stacks blocks only on a CPU adapter, for large
 * passes (a strided input gradient keeps one).
 */
import fc from "fast-check";
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { conv2dGeometry, convPath, filterStacked, filterTuning } from "../../src/ops/conv.ts";
import { convHalves, convTuning, withConvTuning } from "../../src/ops/conv_tiled.ts";
import { SeededRng } from "../../src/util/rng.ts";
import { gpuTestOptions } from "../support/gpu.ts";
import { drawOperands, geometryFits, geometryShapes, tracedPasses } from "../support/conv_cases.ts";
import { bits } from "../support/tracing.ts";

const geometries = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 1, max: 9 }),
  w: fc.integer({ min: 1, max: 19 }),
  inCg: fc.constantFrom(4, 12, 16, 24, 32, 40),
  outCg: fc.constantFrom(4, 12, 16, 32),
  groups: fc.integer({ min: 1, max: 2 }),
  k: fc.integer({ min: 1, max: 3 }),
  stride: fc.integer({ min: 1, max: 2 }),
  dilation: fc.integer({ min: 1, max: 2 }),
  padding: fc.integer({ min: 0, max: 2 }),
  seed: fc.integer({ min: 0, max: 1000 }),
}).map((r) => ({ ...r, kh: r.k, kw: r.k })).filter(geometryFits);

/** Runs `fn` with stacked blocks forced on (every pass) or off, on any adapter. */
const withHalves = async <A>(on: boolean, fn: () => Promise<A>): Promise<A> => {
  const saved = { ...filterTuning };
  Object.assign(filterTuning, { stackedOnCpu: on, stackedOnGpu: on, stackedMinBlocks: 0 });
  try {
    return await withConvTuning({ halvesOnCpu: on, halvesOnGpu: on, halvesMinBlocks: 0 }, fn);
  } finally {
    Object.assign(filterTuning, saved);
  }
};

Deno.test({
  name: "stacked blocks give one block's results bit for bit (y, dx, dw)",
  ...gpuTestOptions,
  fn: async () => {
    let paired = 0;
    await fc.assert(
      fc.asyncProperty(geometries, async (r) => {
        const { input, filter, options } = geometryShapes(r);
        const g = conv2dGeometry(input, filter, options);
        if (convPath(g) !== "vec4") return;
        const data = drawOperands(new SeededRng(r.seed), input, filter, options);
        const two = await withHalves(true, () => tracedPasses(input, filter, options, data));
        const one = await withHalves(false, () => tracedPasses(input, filter, options, data));
        const halves = (t: typeof two, kernel: RegExp, name = "HALVES") =>
          t.dispatches.filter((d) => kernel.test(d.kernel)).map((d) => d.constants[name]);
        const label = JSON.stringify(r);
        const conv = /^shaders\/conv\/conv_vec4\.wgsl/;
        const dw = /^shaders\/conv\/filter_vec4\.wgsl/;
        // The forward always pairs blocks; the input gradient without stride phases.
        const passes = halves(two, conv);
        assertEquals(passes.length > 0 && passes[0], 2, `${label}: forward halves`);
        assertEquals(halves(one, conv).every((h) => h === 1), true, `${label}: off`);
        const stacked = halves(two, dw, "CI_BLOCKS");
        if (stacked.length > 0) {
          const expected = g.inCg > 24 ? 4 : g.inCg > 8 ? 2 : 1;
          assertEquals(stacked, [expected], `${label}: filter blocks stacked`);
          if (expected > 1) paired++;
        }
        const unstacked = halves(one, dw, "CI_BLOCKS");
        assertEquals(unstacked.every((h) => h === 1), true, `${label}: filter off`);
        assertEquals(bits(two.y), bits(one.y), `${label} forward`);
        assertEquals(bits(two.dx), bits(one.dx), `${label} dx`);
        assertEquals(bits(two.dw), bits(one.dw), `${label} dw`);
      }),
      { seed: 20261202, numRuns: 24 },
    );
    if (paired < 5) throw new Error(`only ${paired} cases paired input-channel blocks`);
  },
});

Deno.test({
  name:
    "the convolution pairs pixel blocks by default only on a CPU adapter, for large passes without stride phases",
  ...gpuTestOptions,
  fn: () => {
    const min = convTuning.halvesMinBlocks;
    assertEquals(convHalves(true, min, 1), convTuning.halvesOnCpu ? 2 : 1);
    assertEquals(convHalves(true, min - 1, 1), 1);
    assertEquals(convHalves(true, min, 2), 1);
    assertEquals(convHalves(false, min, 1), convTuning.halvesOnGpu ? 2 : 1);
  },
});

Deno.test({
  name: "the filter gradient stacks 4 or 2 channel blocks by default only on a CPU adapter",
  ...gpuTestOptions,
  fn: () => {
    const min = filterTuning.stackedMinBlocks;
    const on = filterTuning.stackedOnCpu;
    assertEquals(filterStacked(true, min, 4), on ? 4 : 1);
    assertEquals(filterStacked(true, min, 3), on ? 2 : 1);
    assertEquals(filterStacked(true, min, 1), 1);
    assertEquals(filterStacked(true, min - 1, 4), 1);
    assertEquals(filterStacked(false, min, 4), filterTuning.stackedOnGpu ? 4 : 1);
  },
});
