/**
 * Convolution dispatches in small workgroups (src/ops/conv_tiled.ts
 * `convWorkgroup`: workgroups of 8 for a dispatch of fewer than 16 of 64 on a
 * CPU adapter) give what workgroups of 64 give, bit for bit: every invocation
 * computes the same outputs in the same order whatever its workgroup.
 */
import fc from "fast-check";
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { Conv2dOptions } from "../../src/ops/conv.ts";
import { CONV_WG, SMALL_CONV_WG } from "../../src/ops/conv_kernels.ts";
import { convWorkgroup, SMALL_DISPATCH_GROUPS, withConvTuning } from "../../src/ops/conv_tiled.ts";
import { gpuTestOptions } from "../support/gpu.ts";
import { bits } from "../support/tracing.ts";
import { type ConvOperands, drawOperands, tracedPasses } from "../support/conv_cases.ts";
import { SeededRng } from "../../src/util/rng.ts";

/** Runs `fn` with the convolutions' small workgroups on or off, on any adapter. */
const withSmallGroups = <A>(small: boolean, fn: () => Promise<A>): Promise<A> =>
  withConvTuning({ smallGroupsOnCpu: small, smallGroupsOnGpu: small }, fn);

/** The three passes of one case with small workgroups on or off, and the `WG` of each conv dispatch. */
const passes = (
  small: boolean,
  input: number[],
  filter: number[],
  options: Conv2dOptions,
  data: ConvOperands,
) =>
  withSmallGroups(small, async () => {
    const traced = await tracedPasses(input, filter, options, data);
    const groups = traced.dispatches
      .filter((d) => d.constants.WG !== undefined)
      .map((d) => d.constants.WG);
    return { ...traced, groups };
  });

// Register (vec4, paired rows, 16-channel blocks), RGB-stem, general and depthwise paths, each
// small enough that every dispatch has fewer than SMALL_DISPATCH_GROUPS workgroups of 64.
const geometries = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 1, max: 9 }),
  w: fc.integer({ min: 1, max: 9 }),
  form: fc.constantFrom("vec4", "wide", "stem", "general", "depthwise"),
  k: fc.integer({ min: 1, max: 3 }),
  stride: fc.integer({ min: 1, max: 2 }),
  dilation: fc.integer({ min: 1, max: 2 }),
  padding: fc.integer({ min: 0, max: 2 }),
}).filter((r) =>
  r.h + 2 * r.padding > r.dilation * (r.k - 1) &&
  r.w + 2 * r.padding > r.dilation * (r.k - 1)
);

const channels = {
  vec4: { inC: 8, outC: 8, groups: 1 },
  wide: { inC: 16, outC: 32, groups: 1 },
  stem: { inC: 3, outC: 16, groups: 1 },
  general: { inC: 5, outC: 6, groups: 1 },
  depthwise: { inC: 8, outC: 8, groups: 8 },
} as const;

Deno.test({
  name: "convolutions in small workgroups give the workgroups of 64's results bit for bit",
  ...gpuTestOptions,
  fn: async () => {
    const rng = new SeededRng(23);
    await fc.assert(
      fc.asyncProperty(geometries, async (r) => {
        const { inC, outC, groups } = channels[r.form];
        const input = [r.batch, r.h, r.w, inC];
        const filter = [r.k, r.k, inC / groups, outC];
        const options = { stride: r.stride, dilation: r.dilation, padding: r.padding, groups };
        const data = drawOperands(rng, input, filter, options);
        const small = await passes(true, input, filter, options, data);
        const large = await passes(false, input, filter, options, data);
        const label = JSON.stringify({ form: r.form, input, filter, options });
        assert(small.groups.length > 0, `${label}: no convolution dispatch was traced`);
        assert(small.groups.every((wg) => wg === SMALL_CONV_WG), `${label}: ${small.groups}`);
        assert(large.groups.every((wg) => wg === CONV_WG), `${label}: ${large.groups}`);
        assertEquals(bits(small.y), bits(large.y), `${label} forward`);
        assertEquals(bits(small.dx), bits(large.dx), `${label} dx`);
        assertEquals(bits(small.dw), bits(large.dw), `${label} dw`);
      }),
      { seed: 29, numRuns: 30 },
    );
  },
});

Deno.test("a dispatch of many workgroups keeps workgroups of 64; a GPU keeps them unless asked", async () => {
  const limit = SMALL_DISPATCH_GROUPS * CONV_WG;
  await withSmallGroups(true, () => {
    assertEquals(convWorkgroup(true, 1), SMALL_CONV_WG);
    assertEquals(convWorkgroup(true, limit - 1), SMALL_CONV_WG);
    assertEquals(convWorkgroup(true, limit), CONV_WG);
    assertEquals(convWorkgroup(true, 100 * limit), CONV_WG);
    return Promise.resolve();
  });
  await withConvTuning({ smallGroupsOnCpu: true, smallGroupsOnGpu: false }, () => {
    assertEquals(convWorkgroup(false, 1), CONV_WG);
    return Promise.resolve();
  });
});
