import fc from "fast-check";
import { Effect } from "effect";
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  conv2dBackwardFilter,
  conv2dBackwardInput,
  conv2dForward,
  conv2dGeometry,
  type Conv2dOptions,
} from "../../src/ops/conv.ts";
import { centreTapOnly, liveTaps } from "../../src/ops/conv_taps.ts";
import {
  conv2dBackwardFilterReference,
  conv2dBackwardInputReference,
  conv2dForwardReference,
} from "../reference/conv.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { smallInts } from "../support/arbitrary.ts";

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

Deno.test("liveTaps: a tap is live when some output reads inside the input", () => {
  // 3 taps, dilation 6, padding 6 over 4 rows: rows o - 6, o, o + 6 for o in 0..3.
  assertEquals(liveTaps(3, 4, 4, 1, 6, 6), [1]);
  // Dilation 2 over 4 rows: rows o - 2 (o = 2, 3), o, o + 2 (o = 0, 1).
  assertEquals(liveTaps(3, 4, 4, 1, 2, 2), [0, 1, 2]);
  // Stride 2, 7 taps, padding 3 over 1 row (one output): only tap 3 reads row 0.
  assertEquals(liveTaps(7, 1, 1, 2, 3, 1), [3]);
  // One tap past the padding on the far side: rows 2o - 1 + k for o in 0..1, 3 rows.
  assertEquals(liveTaps(3, 3, 2, 2, 1, 1), [0, 1, 2]);
});

Deno.test("centreTapOnly: ASPP's dilated branches on small maps become 1x1 convolutions", () => {
  const aspp = conv2dGeometry([8, 4, 4, 128], [3, 3, 128, 64], { padding: 12, dilation: 12 });
  assertEquals(centreTapOnly(aspp), {
    tap: 4,
    filterShape: [1, 1, 128, 64],
    options: { stride: [1, 1], padding: [0, 0], groups: 1 },
  });
  // The same branch on a 32x32 map: every tap is live.
  const large = conv2dGeometry([1, 32, 32, 128], [3, 3, 128, 64], { padding: 12, dilation: 12 });
  assertEquals(centreTapOnly(large), undefined);
  // A 3x3 convolution without dilation on 4x4: every tap is live.
  const plain = conv2dGeometry([1, 4, 4, 8], [3, 3, 8, 8], { padding: 1 });
  assertEquals(centreTapOnly(plain), undefined);
  // A live off-centre tap (padding 0): not reduced.
  const unpadded = conv2dGeometry([1, 1, 3, 8], [1, 3, 8, 8], {});
  assertEquals(centreTapOnly(unpadded), undefined);
  // 1x1 filters need nothing.
  assertEquals(centreTapOnly(conv2dGeometry([1, 4, 4, 8], [1, 1, 8, 8], {})), undefined);
  // Padding beyond the centre's reach stays as padding of the 1x1 convolution.
  const extra = conv2dGeometry([1, 2, 2, 4], [3, 3, 4, 4], { padding: 4, dilation: 3 });
  assertEquals(centreTapOnly(extra)?.options.padding, [1, 1]);
});

// Dilations at and beyond the map's size, so that many cases have only the centre tap live;
// channel counts whose tap slices are and are not 256-byte aligned (a view or a copy).
const geometries = fc.record({
  batch: fc.integer({ min: 1, max: 2 }),
  h: fc.integer({ min: 1, max: 5 }),
  w: fc.integer({ min: 1, max: 5 }),
  inCg: fc.constantFrom(3, 4, 8, 16),
  outC: fc.constantFrom(4, 5, 8, 16),
  k: fc.constantFrom(3, 5),
  stride: fc.integer({ min: 1, max: 2 }),
  dilation: fc.integer({ min: 1, max: 7 }),
  extraPad: fc.integer({ min: 0, max: 1 }),
}).map((r) => ({ ...r, padding: r.dilation * (r.k - 1) / 2 + r.extraPad }));

Deno.test({
  name: "convolutions with dead taps equal the float64 references exactly (forward, dx, dw, into)",
  ...gpuTestOptions,
  fn: async () => {
    let reduced = 0;
    await fc.assert(
      fc.asyncProperty(
        geometries.chain((r) => {
          const input = [r.batch, r.h, r.w, r.inCg];
          const filter = [r.k, r.k, r.inCg, r.outC];
          const options: Conv2dOptions = {
            padding: r.padding,
            stride: r.stride,
            dilation: r.dilation,
          };
          const g = conv2dGeometry(input, filter, options);
          const outputs = g.batch * g.outH * g.outW * g.outC;
          return fc.record({
            input: fc.constant(input),
            filter: fc.constant(filter),
            options: fc.constant(options),
            x: smallInts(size(input), -3, 3),
            w: smallInts(size(filter), -3, 3),
            dy: smallInts(outputs, -3, 3),
            before: smallInts(size(filter), -3, 3),
          });
        }),
        async ({ input, filter, options, x, w, dy, before }) => {
          const g = conv2dGeometry(input, filter, options);
          if (centreTapOnly(g)) reduced++;
          const dyShape = [g.batch, g.outH, g.outW, g.outC];
          const got = await runGpu(Effect.gen(function* () {
            const tx = yield* fromArray(x, input, "f32");
            const tw = yield* fromArray(w, filter, "f32");
            const tdy = yield* fromArray(dy, dyShape, "f32");
            const into = yield* fromArray(before, filter, "f32");
            return {
              y: yield* download(yield* conv2dForward(tx, tw, undefined, options)),
              dx: yield* download(yield* conv2dBackwardInput(tdy, tw, input, options)),
              dw: yield* download(yield* conv2dBackwardFilter(tx, tdy, filter, options)),
              into: yield* download(yield* conv2dBackwardFilter(tx, tdy, filter, options, into)),
            };
          }));
          const label = JSON.stringify({ input, filter, options });
          const dw = conv2dBackwardFilterReference(g, x, dy);
          // Integer inputs: every partial sum is exact in f32.
          assertClose(got.y, conv2dForwardReference(g, x, w), 0, 0, `${label} forward`);
          assertClose(got.dx, conv2dBackwardInputReference(g, dy, w), 0, 0, `${label} dx`);
          assertClose(got.dw, dw, 0, 0, `${label} dw`);
          assertClose(got.into, dw.map((v, i) => v + before[i]), 0, 0, `${label} into`);
        },
      ),
      { seed: 11, numRuns: 40 },
    );
    if (reduced < 10) throw new Error(`only ${reduced} of 40 cases had only the centre tap live`);
  },
});
