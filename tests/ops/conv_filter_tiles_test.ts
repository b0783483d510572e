import fc from "fast-check";
import { Effect } from "effect";
import {
  conv2dBackwardFilter,
  conv2dGeometry,
  type Conv2dOptions,
  filterKind,
  filterTiling,
  filterTuning,
} from "../../src/ops/conv.ts";
import { conv2dBackwardFilterReference } from "../reference/conv.ts";
import { Gpu } from "../../src/gpu/device.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { smallInts } from "../support/arbitrary.ts";

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

// Output channels per group around the 8 and 16 tile widths (partial tiles at
// the group's end included), one or two groups, padding, stride, dilation.
const geometriesWith = (inCg: fc.Arbitrary<number>) =>
  fc.record({
    batch: fc.integer({ min: 1, max: 2 }),
    h: fc.integer({ min: 1, max: 7 }),
    w: fc.integer({ min: 1, max: 11 }),
    inCg,
    outCg: fc.constantFrom(4, 8, 12, 16, 20, 32, 36),
    groups: fc.integer({ min: 1, max: 2 }),
    k: fc.integer({ min: 1, max: 3 }),
    stride: fc.integer({ min: 1, max: 2 }),
    dilation: fc.integer({ min: 1, max: 2 }),
    padding: fc.integer({ min: 0, max: 2 }),
  }).filter((r) =>
    r.h + 2 * r.padding > r.dilation * (r.k - 1) &&
    r.w + 2 * r.padding > r.dilation * (r.k - 1)
  );

/** The property: kernel `kind` with 8- and 16-channel tiles equals the reference exactly. */
const exactWithBothTiles = (
  name: string,
  geometries: ReturnType<typeof geometriesWith>,
  kind: ReturnType<typeof filterKind>,
) =>
  Deno.test({
    name,
    ...gpuTestOptions,
    fn: async () => {
      const chosen = filterTuning.coQuads;
      const cpu = await runGpu(Effect.map(Gpu, (gpu) => gpu.adapter.isFallback));
      try {
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
                dy: smallInts(g.batch * g.outH * g.outW * g.outC, -3, 3),
              });
            }),
            async ({ input, filter, options, x, dy }) => {
              const g = conv2dGeometry(input, filter, options);
              if (filterKind(g) !== kind) throw new Error(`${kind} expected: ${JSON.stringify(g)}`);
              const want = conv2dBackwardFilterReference(g, x, dy);
              for (const quads of [2, 4]) {
                filterTuning.coQuads = () => quads;
                const label = `${JSON.stringify({ input, filter, options })}, ${quads} quads, ${
                  filterTiling(g, cpu).splits
                } splits`;
                const got = await runGpu(Effect.gen(function* () {
                  const tx = yield* fromArray(x, input, "f32");
                  const tdy = yield* fromArray(dy, [g.batch, g.outH, g.outW, g.outC], "f32");
                  return yield* download(yield* conv2dBackwardFilter(tx, tdy, filter, options));
                }));
                // Integer inputs: every partial sum is exact in f32.
                assertClose(got, want, 0, 0, label);
              }
            },
          ),
          { seed: 7, numRuns: 30 },
        );
      } finally {
        filterTuning.coQuads = chosen;
      }
    },
  });

exactWithBothTiles(
  "the vec4 filter gradient is exact with 8- and 16-channel tiles, split or not",
  geometriesWith(fc.constantFrom(4, 8, 12, 20)),
  "vec4",
);

exactWithBothTiles(
  "the out4 filter gradient (input channels not in quads) is exact, split or not",
  geometriesWith(fc.constantFrom(1, 2, 3, 5, 6)),
  "out4",
);
