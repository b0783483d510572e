import fc from "fast-check";
import { Effect } from "effect";
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  conv2dBackwardFilter,
  conv2dBackwardInput,
  conv2dForward,
  conv2dGeometry,
  type Conv2dOptions,
} from "../../src/ops/conv.ts";
import { CONV_WG, SMALL_CONV_WG } from "../../src/ops/conv_kernels.ts";
import { convWorkgroup, SMALL_DISPATCH_GROUPS, withConvTuning } from "../../src/ops/conv_tiled.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { bits, tracing } from "../support/tracing.ts";
import { SeededRng } from "../../src/util/rng.ts";

/** Runs `fn` with the convolutions' small workgroups on or off, on any adapter. */
const withSmallGroups = <A>(small: boolean, fn: () => Promise<A>): Promise<A> =>
  withConvTuning({ smallGroupsOnCpu: small, smallGroupsOnGpu: small }, fn);

/** Forward, input and filter gradient, with the workgroup size of each convolution dispatch. */
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
        dw: yield* download(yield* conv2dBackwardFilter(tx, tdy, filter, options)),
      };
    }));
    const groups = traced.dispatches
      .filter((d) => d.constants.WG !== undefined)
      .map((d) => d.constants.WG);
    return { ...traced.result, groups };
  }));

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
        const g = conv2dGeometry(input, filter, options);
        const draw = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
        const x = draw(input.reduce((a, b) => a * b, 1));
        const w = draw(filter.reduce((a, b) => a * b, 1));
        const dy = draw(g.batch * g.outH * g.outW * g.outC);
        const small = await withSmallGroups(true, () => passes(input, filter, options, x, w, dy));
        const large = await withSmallGroups(false, () => passes(input, filter, options, x, w, dy));
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

Deno.test("a dispatch of many workgroups keeps workgroups of 64; a GPU keeps them unless asked", () =>
  withSmallGroups(true, () => {
    const limit = SMALL_DISPATCH_GROUPS * CONV_WG;
    assertEquals(convWorkgroup(true, 1), SMALL_CONV_WG);
    assertEquals(convWorkgroup(true, limit - 1), SMALL_CONV_WG);
    assertEquals(convWorkgroup(true, limit), CONV_WG);
    assertEquals(convWorkgroup(true, 100 * limit), CONV_WG);
    return Promise.resolve();
  }).then(() =>
    withConvTuning({ smallGroupsOnCpu: true, smallGroupsOnGpu: false }, () => {
      assertEquals(convWorkgroup(false, 1), CONV_WG);
      return Promise.resolve();
    })
  ));
