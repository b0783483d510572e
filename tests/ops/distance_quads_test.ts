/**
 * The distance and L2-normalisation kernels on channel quads (vec4 loads,
 * a quarter of the loop iterations) against the f32 form they replace: bit
 * for bit on the CPU adapter (within a few ulps on a GPU that fuses
 * multiply-adds its own way: `assertSameForm`), for every distance, every
 * reduction, zero rows (the eps guards) and POD's long per-image rows.
 */
import fc from "fast-check";
import { Effect } from "effect";
import {
  distance,
  distanceBackward,
  type DistanceKindName,
  l2Normalize,
  l2NormalizeBackward,
  setDistanceQuads,
} from "../../src/ops/distance.ts";
import type { Reduction } from "../../src/ops/loss.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { seededValues } from "../support/arbitrary.ts";
import { assertSameForm, tracing } from "../support/tracing.ts";

const quadCase = fc.record({
  pixels: fc.integer({ min: 1, max: 70 }),
  // Multiples of 4, up to a POD row of a `small` net (14336 channels).
  channels: fc.constantFrom(4, 8, 12, 64, 100, 14336),
  kind: fc.constantFrom<DistanceKindName>("l2Squared", "l2", "cosine"),
  reduction: fc.constantFrom<Reduction>("none", "sum", "mean"),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
  // Which rows are all zero in a (the eps guards) and equal in b (distance 0).
  zeroRow: fc.integer({ min: 0, max: 3 }),
});

Deno.test({
  name: "distances, L2-normalisation and their gradients on channel quads equal the f32 kernels",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(quadCase, async (k) => {
        const pixels = Math.min(k.pixels, k.channels > 1000 ? 8 : k.pixels);
        const n = pixels * k.channels;
        const a = seededValues(n, k.seed, 2);
        const b = seededValues(n, k.seed + 1, 2);
        for (let p = 0; p < pixels; p += 3 + k.zeroRow) {
          a.fill(0, p * k.channels, (p + 1) * k.channels);
        }
        for (let p = 1; p < pixels; p += 3 + k.zeroRow) {
          b.set(a.subarray(p * k.channels, (p + 1) * k.channels), p * k.channels);
        }
        const g = seededValues(n, k.seed + 2, 1);
        const run = (quads: boolean) =>
          runGpu(tracing(Effect.gen(function* () {
            const previous = setDistanceQuads(quads);
            try {
              const shape = [pixels, k.channels];
              const at = yield* fromArray(a, shape, "f32");
              const bt = yield* fromArray(b, shape, "f32");
              const gt = yield* fromArray(g, shape, "f32");
              const options = { reduction: k.reduction };
              const r = yield* distance(k.kind, at, bt, options);
              const up = yield* fromArray(g.subarray(0, r.value.elements), r.value.shape, "f32");
              const d = yield* distanceBackward(k.kind, at, bt, up, r.totals, options);
              const y = yield* l2Normalize(at);
              const dy = yield* l2NormalizeBackward(at, gt);
              return [
                yield* download(r.value),
                yield* download(d.a),
                yield* download(d.b),
                yield* download(y),
                yield* download(dy),
              ];
            } finally {
              setDistanceQuads(previous);
            }
          })));
        const quad = await run(true);
        const scalar = await run(false);
        const quadKernels = quad.kernels.filter((name) => name.includes("shaders/distance/"));
        if (quadKernels.length !== 4 || !quadKernels.every((name) => name.endsWith("<vec4>"))) {
          throw new Error(`the quad form was not taken: ${quad.kernels}`);
        }
        if (scalar.kernels.some((name) => name.endsWith("<vec4>"))) {
          throw new Error(`the f32 run took a quad kernel: ${scalar.kernels}`);
        }
        const labels = ["distance", "da", "db", "normalised", "normalisation's gradient"];
        labels.forEach((label, i) =>
          assertSameForm(quad.result[i], scalar.result[i], quad.adapter, `${k.kind} ${label}`)
        );
      }),
      { numRuns: 30, seed: 9090 },
    );
  },
});

Deno.test({
  name: "channels that are not a multiple of 4 keep the f32 kernels",
  ...gpuTestOptions,
  fn: async () => {
    const traced = await runGpu(tracing(Effect.gen(function* () {
      const a = yield* fromArray(seededValues(2 * 6, 5, 1), [2, 6], "f32");
      yield* l2Normalize(a);
      yield* distance("l2", a, a);
    })));
    const names = traced.kernels.filter((name) => name.includes("shaders/distance/"));
    if (names.length !== 2 || names.some((name) => name.endsWith("<vec4>"))) {
      throw new Error(`6 channels took ${names}`);
    }
  },
});
