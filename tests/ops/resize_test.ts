import fc from "fast-check";
import { Effect } from "effect";
import {
  bilinearBackwardKernel,
  bilinearBackwardVec4Kernel,
  bilinearBackwardVec4TextureKernel,
  bilinearKernel,
  bilinearPixelsVec4TextureKernel,
  bilinearVec4Kernel,
  bilinearVec4TextureKernel,
  resizeBilinear,
  resizeBilinearBackward,
} from "../../src/ops/resize.ts";
import { Gpu } from "../../src/gpu/device.ts";
import {
  bilinearTaps,
  resizeBilinearBackwardReference,
  resizeBilinearReference,
} from "../reference/resize.ts";
import { download, empty, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { resizeAtol } from "../support/tolerances.ts";
import { assertSameForm } from "../support/tracing.ts";
import { seededValues } from "../support/arbitrary.ts";

/** Axis sizes in and out: the named odd cases plus random ones, up and down. */
const axisArb = fc.oneof(
  fc.constantFrom([7, 13], [13, 5], [65, 17], [1, 4], [5, 1], [9, 9], [3, 8]),
  fc.tuple(fc.integer({ min: 1, max: 23 }), fc.integer({ min: 1, max: 23 })),
);

const caseArb = fc.record({
  n: fc.integer({ min: 1, max: 3 }),
  c: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constantFrom(8, 12)),
  hs: axisArb,
  ws: axisArb,
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});

Deno.test({
  name: "bilinear resize forward and gather backward match the reference (up and down)",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (k) => {
        const [inH, outH] = k.hs;
        const [inW, outW] = k.ws;
        const shape = [k.n, inH, inW, k.c];
        const x = seededValues(k.n * inH * inW * k.c, k.seed);
        const dy = seededValues(k.n * outH * outW * k.c, k.seed + 1);
        const got = await runGpu(Effect.gen(function* () {
          const y = yield* resizeBilinear(yield* fromArray(x, shape, "f32"), outH, outW);
          const dx = yield* resizeBilinearBackward(yield* fromArray(dy, y.shape, "f32"), shape);
          return { shape: y.shape, y: yield* download(y), dx: yield* download(dx) };
        }));
        if (got.shape.join() !== [k.n, outH, outW, k.c].join()) throw new Error(`${got.shape}`);
        const atol = resizeAtol(x, dy, shape, outH, outW);
        assertClose(got.y, resizeBilinearReference(x, shape, outH, outW), atol.y, 0, "y");
        const dxRef = resizeBilinearBackwardReference(dy, shape, outH, outW);
        assertClose(got.dx, dxRef, atol.dx, 0, "dx");
      }),
      { seed: 42, numRuns: 25 },
    );
  },
});

Deno.test("bilinear reference backward satisfies the adjoint identity", () => {
  fc.assert(
    fc.property(caseArb, (k) => {
      const [inH, outH] = k.hs;
      const [inW, outW] = k.ws;
      const shape = [k.n, inH, inW, k.c];
      const x = seededValues(k.n * inH * inW * k.c, k.seed);
      const g = seededValues(k.n * outH * outW * k.c, k.seed + 1);
      const lhs = resizeBilinearReference(x, shape, outH, outW).reduce(
        (s, v, i) => s + v * g[i],
        0,
      );
      const rhs = resizeBilinearBackwardReference(g, shape, outH, outW)
        .reduce((s, v, i) => s + v * x[i], 0);
      return Math.abs(lhs - rhs) <= 1e-9 * (1 + Math.abs(lhs));
    }),
    { seed: 42, numRuns: 40 },
  );
});

Deno.test("bilinear taps follow PyTorch's align_corners=False rule", () => {
  // 2 -> 4: sources -0.25 (clamped to 0), 0.25, 0.75, 1.25 (second tap clamped).
  const t = [0, 1, 2, 3].map((o) => bilinearTaps(o, 2, 4));
  assertClose(t.map((x) => x.i0), [0, 0, 0, 1], 0, 0, "i0");
  assertClose(t.map((x) => x.i1), [1, 1, 1, 1], 0, 0, "i1");
  assertClose(t.map((x) => x.w1), [0, 0.25, 0.75, 0.25], 1e-15, 0, "w1");
  // Same size is the identity; a constant image stays constant at any size.
  const x = seededValues(2 * 5 * 3, 7);
  assertClose(resizeBilinearReference(x, [1, 5, 3, 2], 5, 3), x, 1e-15, 0, "identity");
  const ones = resizeBilinearReference(new Float64Array(7 * 13).fill(1), [1, 7, 13, 1], 13, 5);
  assertClose(ones, new Float64Array(13 * 5).fill(1), 1e-12, 0, "constant");
});

Deno.test({
  name:
    "bilinear resize over channel quads equals the per-channel kernels (bit for bit on a CPU adapter)",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(caseArb.filter((k) => k.c % 4 === 0), async (k) => {
        const [inH, outH] = k.hs;
        const [inW, outW] = k.ws;
        const p = {
          batch: k.n,
          in_h: inH,
          in_w: inW,
          channels: k.c,
          out_h: outH,
          out_w: outW,
          scale_h: inH / outH,
          scale_w: inW / outW,
        };
        const quads = { ...p, channels: k.c / 4 };
        const x = seededValues(k.n * inH * inW * k.c, k.seed);
        const dy = seededValues(k.n * outH * outW * k.c, k.seed + 1);
        const got = await runGpu(Effect.gen(function* () {
          const gpu = yield* Gpu;
          const tx = yield* fromArray(x, [k.n, inH, inW, k.c], "f32");
          const tdy = yield* fromArray(dy, [k.n, outH, outW, k.c], "f32");
          const y1 = yield* empty([k.n, outH, outW, k.c], "f32");
          const y4 = yield* empty([k.n, outH, outW, k.c], "f32");
          const dx1 = yield* empty([k.n, inH, inW, k.c], "f32");
          const dx4 = yield* empty([k.n, inH, inW, k.c], "f32");
          yield* gpu.recorder.dispatch(bilinearKernel, { x: tx, y: y1 }, p);
          yield* gpu.recorder.dispatch(bilinearVec4Kernel, { x: tx, y: y4 }, quads);
          yield* gpu.recorder.dispatch(bilinearBackwardKernel, { dy: tdy, dx: dx1 }, p);
          yield* gpu.recorder.dispatch(bilinearBackwardVec4Kernel, { dy: tdy, dx: dx4 }, quads);
          // The quad kernels reading through texture copies (CPU adapters' default).
          const y4t = yield* empty([k.n, outH, outW, k.c], "f32");
          const dx4t = yield* empty([k.n, inH, inW, k.c], "f32");
          yield* gpu.recorder.dispatch(bilinearVec4TextureKernel, { x: tx, y: y4t }, quads);
          // One invocation per output pixel (CPU adapters, sources past a uniform block).
          const ypt = yield* empty([k.n, outH, outW, k.c], "f32");
          yield* gpu.recorder.dispatch(bilinearPixelsVec4TextureKernel, { x: tx, y: ypt }, quads);
          yield* gpu.recorder.dispatch(
            bilinearBackwardVec4TextureKernel,
            { dy: tdy, dx: dx4t },
            quads,
          );
          return {
            outputs: [
              yield* download(y1),
              yield* download(y4),
              yield* download(dx1),
              yield* download(dx4),
              yield* download(y4t),
              yield* download(dx4t),
              yield* download(ypt),
            ],
            adapter: gpu.adapter,
          };
        }));
        const [y1, y4, dx1, dx4, y4t, dx4t, ypt] = got.outputs;
        assertSameForm(y4, y1, got.adapter, "y");
        assertSameForm(dx4, dx1, got.adapter, "dx");
        assertSameForm(y4t, y1, got.adapter, "y through textures");
        assertSameForm(dx4t, dx1, got.adapter, "dx through textures");
        assertSameForm(ypt, y1, got.adapter, "y per pixel through textures");
      }),
      { seed: 5, numRuns: 15 },
    );
  },
});
