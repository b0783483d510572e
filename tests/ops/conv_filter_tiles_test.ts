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

Deno.test("split-K on a GPU: more chunks than on a CPU adapter, partial sums within their cap", () => {
  // ResNet-101's shapes in a batch-8 512x512 step at output stride 16: the stem's
  // successors at 128x128, the 3x3 convs of layers 2-4 and a 1x1 projection.
  const shapes: [number[], number[], Conv2dOptions][] = [
    [[8, 128, 128, 64], [3, 3, 64, 64], { padding: 1 }],
    [[8, 64, 64, 128], [3, 3, 128, 128], { padding: 1 }],
    [[8, 32, 32, 256], [3, 3, 256, 256], { padding: 1 }],
    [[8, 32, 32, 512], [3, 3, 512, 512], { padding: 2, dilation: 2 }],
    [[8, 32, 32, 1024], [1, 1, 1024, 256], {}],
  ];
  for (const [input, filter, options] of shapes) {
    const g = conv2dGeometry(input, filter, options);
    const gpu = filterTiling(g, false);
    const cpu = filterTiling(g, true);
    const label = JSON.stringify({ input, filter, options, gpu, cpu });
    const taps = g.kH * g.kW * g.inCg * g.outC;
    if (gpu.splits < cpu.splits) throw new Error(`fewer GPU splits: ${label}`);
    if (gpu.splits * taps > filterTuning.maxPartialElements) {
      throw new Error(`partial sums past the cap: ${label}`);
    }
    if (gpu.splits > g.batch * g.outH) throw new Error(`more splits than rows: ${label}`);
    // The chunks (equal runs of output rows) are as short as the target and the
    // cap allow: one row shorter would make more chunks than either permits.
    const rows = g.batch * g.outH;
    const chunk = Math.ceil(rows / gpu.splits);
    const tiles = g.kH * g.kW * gpu.ciBlocks * gpu.coBlocks;
    const wanted = Math.ceil(filterTuning.targetInvocations / tiles);
    const byMemory = Math.floor(filterTuning.maxPartialElements / taps);
    if (chunk > 1 && Math.ceil(rows / (chunk - 1)) <= Math.min(wanted, byMemory)) {
      throw new Error(`chunks of ${chunk} rows could be shorter: ${label}`);
    }
  }
});
