import fc from "fast-check";
import { Effect } from "effect";
import {
  conv2dBackwardInput,
  conv2dForward,
  conv2dGeometry,
  type Conv2dOptions,
  convPath,
} from "../../src/ops/conv.ts";
import { conv2dBackwardInputReference, conv2dForwardReference } from "../reference/conv.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { smallInts } from "../support/arbitrary.ts";

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

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
        geometries.chain((r) => {
          const input = [r.batch, r.h, r.w, r.inCg * r.groups];
          const filter = [r.k, r.k, r.inCg, r.outCg * r.groups];
          const options: Conv2dOptions = {
            padding: r.padding,
            stride: r.stride,
            dilation: r.dilation,
            groups: r.groups,
          };
          const g = conv2dGeometry(input, filter, options);
          return fc.record({
            input: fc.constant(input),
            filter: fc.constant(filter),
            options: fc.constant(options),
            x: smallInts(size(input), -3, 3),
            w: smallInts(size(filter), -3, 3),
            bias: r.bias ? smallInts(g.outC, -3, 3) : fc.constant(undefined),
            dy: smallInts(g.batch * g.outH * g.outW * g.outC, -3, 3),
          });
        }),
        async ({ input, filter, options, x, w, bias, dy }) => {
          const g = conv2dGeometry(input, filter, options);
          if (convPath(g) !== "vec4") return;
          if (g.outW <= 4 || Math.ceil(g.inW / g.strideW) <= 4) narrow++;
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
          // Integer inputs: every partial sum is exact in f32.
          assertClose(got.y, conv2dForwardReference(g, x, w, bias), 0, 0, `${label} forward`);
          assertClose(got.dx, conv2dBackwardInputReference(g, dy, w), 0, 0, `${label} dx`);
        },
      ),
      { seed: 23, numRuns: 60 },
    );
    if (narrow < 20) throw new Error(`only ${narrow} of 60 cases were narrow vec4 convolutions`);
  },
});
