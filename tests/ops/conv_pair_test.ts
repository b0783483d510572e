import fc from "fast-check";
import { conv2dGeometry, convPath } from "../../src/ops/conv.ts";
import { gpuTestOptions } from "../support/gpu.ts";
import { assertForwardAndInputExact, convCase } from "../support/conv_cases.ts";

// Maps at most 4 columns wide (a phase of the input gradient too): the vec4 kernel's
// blocks of 4 columns x 2 rows, odd row counts (a block's second row past the end),
// stride, dilation, padding, groups, bias.
const geometries = fc.record({
  batch: fc.integer({ min: 1, max: 2 }),
  h: fc.integer({ min: 2, max: 7 }),
  w: fc.integer({ min: 1, max: 8 }),
  inCg: fc.constantFrom(4, 8, 12),
  outCg: fc.constantFrom(4, 8, 12, 16),
  groups: fc.integer({ min: 1, max: 2 }),
  k: fc.integer({ min: 1, max: 3 }),
  stride: fc.integer({ min: 1, max: 2 }),
  dilation: fc.integer({ min: 1, max: 2 }),
  padding: fc.integer({ min: 0, max: 2 }),
  bias: fc.boolean(),
}).filter((r) =>
  r.h + 2 * r.padding > r.dilation * (r.k - 1) &&
  r.w + 2 * r.padding > r.dilation * (r.k - 1)
);

Deno.test({
  name: "the vec4 convolution on maps at most 4 columns wide (two-row blocks) is exact",
  ...gpuTestOptions,
  fn: async () => {
    let narrow = 0;
    await fc.assert(
      fc.asyncProperty(
        geometries.chain(convCase),
        async (c) => {
          const g = conv2dGeometry(c.input, c.filter, c.options);
          if (convPath(g) !== "vec4") return;
          if (g.outW <= 4 || Math.ceil(g.inW / g.strideW) <= 4) narrow++;
          await assertForwardAndInputExact(c);
        },
      ),
      { seed: 23, numRuns: 60 },
    );
    if (narrow < 20) throw new Error(`only ${narrow} of 60 cases were narrow vec4 convolutions`);
  },
});
