/**
 * The RGB stem's filter gradient taking several taps of a filter row an
 * invocation (`filterTuning.out4Taps`, filter_out4.wgsl TAPS up to 4: the taps
 * share each pixel's dy loads) gives one tap an invocation's gradient bit for
 * bit, over random geometries with 1 to 3 input channels a group, filter rows
 * of 1 to 7 taps (groups of 4 with dead taps past the row's end), strides,
 * dilations, padding that one tap of a group reads and another does not, and
 * groups. The default takes up to 4 taps only on a CPU adapter.
 */
import fc from "fast-check";
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { conv2dGeometry, filterKind, filterTuning } from "../../src/ops/conv.ts";
import { SeededRng } from "../../src/util/rng.ts";
import { gpuTestOptions } from "../support/gpu.ts";
import { drawOperands, geometryFits, geometryShapes, tracedPasses } from "../support/conv_cases.ts";
import { bits } from "../support/tracing.ts";

const geometries = fc.record({
  batch: fc.integer({ min: 1, max: 2 }),
  h: fc.integer({ min: 1, max: 12 }),
  w: fc.integer({ min: 1, max: 14 }),
  inCg: fc.integer({ min: 1, max: 3 }),
  outCg: fc.constantFrom(4, 8, 16),
  groups: fc.integer({ min: 1, max: 2 }),
  kh: fc.integer({ min: 1, max: 3 }),
  kw: fc.integer({ min: 1, max: 7 }),
  stride: fc.integer({ min: 1, max: 2 }),
  dilation: fc.integer({ min: 1, max: 2 }),
  padding: fc.integer({ min: 0, max: 3 }),
  seed: fc.integer({ min: 0, max: 1000 }),
}).filter(geometryFits);

/** Runs `fn` with the row's taps forced to one an invocation, or the CPU default on any adapter. */
const withTaps = async <A>(many: boolean, fn: () => Promise<A>): Promise<A> => {
  const saved = filterTuning.out4Taps;
  filterTuning.out4Taps = (_isFallback, kW) => many ? Math.min(4, kW) : 1;
  try {
    return await fn();
  } finally {
    filterTuning.out4Taps = saved;
  }
};

Deno.test({
  name: "the stem's filter gradient over a row's taps equals one tap an invocation bit for bit",
  ...gpuTestOptions,
  fn: async () => {
    let grouped = 0;
    await fc.assert(
      fc.asyncProperty(geometries, async (r) => {
        const { input, filter, options } = geometryShapes(r);
        const g = conv2dGeometry(input, filter, options);
        if (filterKind(g) !== "out4") return;
        const data = drawOperands(new SeededRng(r.seed), input, filter, options);
        const many = await withTaps(true, () => tracedPasses(input, filter, options, data));
        const one = await withTaps(false, () => tracedPasses(input, filter, options, data));
        const taps = (t: typeof many) =>
          t.dispatches.filter((d) => /filter_out4/.test(d.kernel)).map((d) => d.constants.TAPS);
        const label = JSON.stringify(r);
        assertEquals(taps(many), [Math.min(4, r.kw)], `${label}: taps`);
        assertEquals(taps(one), [1], `${label}: one tap`);
        if (r.kw > 1) grouped++;
        assertEquals(bits(many.dw), bits(one.dw), `${label} dw`);
      }),
      { seed: 20261202, numRuns: 30 },
    );
    if (grouped < 15) throw new Error(`only ${grouped} cases grouped taps`);
  },
});

Deno.test({
  name: "the stem's filter gradient takes a row's taps by default only on a CPU adapter",
  ...gpuTestOptions,
  fn: () => {
    const on = filterTuning.out4TapsOnCpu;
    assertEquals(filterTuning.out4Taps(true, 7), on ? 4 : 1);
    assertEquals(filterTuning.out4Taps(true, 3), on ? 3 : 1);
    assertEquals(filterTuning.out4Taps(false, 7), 1);
  },
});
