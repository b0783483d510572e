import fc from "fast-check";
import { Effect } from "effect";
import { fillInto } from "../../src/ops/core.ts";
import { accumulatePrototypes, finalizePrototypes } from "../../src/ops/prototypes.ts";
import { accumulatePrototypesReference, finalizePrototypesReference } from "../reference/gsc.ts";
import { download, empty, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { floats, seededValues, shapeOf } from "../support/arbitrary.ts";

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

// Targets: classes, some 255 (ignore) and some out of range (skipped).
const targetsFor = (pixels: number, classes: number) =>
  fc.array(
    fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 0, max: classes - 1 }) },
      { weight: 1, arbitrary: fc.constantFrom(255, -1, classes) },
    ),
    { minLength: pixels, maxLength: pixels },
  );

const cases = fc.record({
  shape: shapeOf(3, 7),
  classes: fc.integer({ min: 1, max: 9 }),
  width: fc.integer({ min: 1, max: 37 }),
  batches: fc.integer({ min: 1, max: 2 }),
  minPixels: fc.integer({ min: 0, max: 6 }),
}).chain((c) => {
  const p = sizeOf(c.shape);
  return fc.record({
    c: fc.constant(c),
    features: fc.array(floats(p * c.width, 3), { minLength: c.batches, maxLength: c.batches }),
    targets: fc.array(targetsFor(p, c.classes), { minLength: c.batches, maxLength: c.batches }),
    previous: floats(c.classes * c.width, 1),
    previousValid: fc.array(fc.integer({ min: 0, max: 1 }), {
      minLength: c.classes,
      maxLength: c.classes,
    }),
    withPrevious: fc.boolean(),
    countType: fc.constantFrom<"u32" | "f32">("u32", "f32"),
  });
});

/** Accumulates every batch, then finalizes; returns the host arrays. */
const runPrototypes = (
  shape: readonly number[],
  classes: number,
  width: number,
  features: readonly number[][],
  targets: readonly number[][],
  previous: { prototypes: number[]; valid: number[] } | undefined,
  minPixels: number,
  countType: "u32" | "f32" = "u32",
) =>
  runGpu(Effect.gen(function* () {
    const sums = yield* empty([classes, width], "f32");
    const counts = yield* empty([classes], countType);
    yield* fillInto(sums, 0);
    yield* fillInto(counts, 0);
    for (let b = 0; b < features.length; b++) {
      const f = yield* fromArray(features[b], [...shape, width], "f32");
      const t = yield* fromArray(targets[b], shape, "i32");
      yield* accumulatePrototypes(f, t, sums, counts);
    }
    const prev = previous && {
      prototypes: yield* fromArray(previous.prototypes, [classes, width], "f32"),
      valid: yield* fromArray(previous.valid, [classes], "u32"),
    };
    const out = yield* finalizePrototypes(sums, counts, prev, minPixels);
    return {
      sums: yield* download(sums),
      counts: yield* download(counts),
      prototypes: yield* download(out.prototypes),
      valid: yield* download(out.valid),
    };
  }));

Deno.test(
  "prototypes: GPU sums, counts and prototypes match the float64 reference",
  gpuTestOptions,
  async () => {
    await fc.assert(
      fc.asyncProperty(
        cases,
        async ({ c, features, targets, previous, previousValid, withPrevious, countType }) => {
          const prev = withPrevious ? { prototypes: previous, valid: previousValid } : undefined;
          const got = await runPrototypes(
            c.shape,
            c.classes,
            c.width,
            features,
            targets,
            prev,
            c.minPixels,
            countType,
          );
          const sums = new Float64Array(c.classes * c.width);
          const counts = new Float64Array(c.classes);
          for (let b = 0; b < c.batches; b++) {
            const r = accumulatePrototypesReference(features[b], targets[b], c.classes, c.width);
            r.sums.forEach((v, i) => (sums[i] += v));
            r.counts.forEach((v, i) => (counts[i] += v));
          }
          assertClose(got.counts, counts, 0, 0, "counts");
          assertClose(got.sums, sums, 1e-5, 1e-5, "sums");
          // The prototypes from the GPU's own sums, which were just checked: a
          // class whose normalised features nearly cancel has a mean near the
          // 1e-8 norm floor, where a float32 rounding of the sum (a normalised
          // feature 1 - 2^-24 on an adapter with an inexact division, say)
          // moves the prototype by any amount. Finalising is what is tested here.
          const expected = finalizePrototypesReference(
            got.sums,
            counts,
            c.classes,
            c.width,
            prev && { ...prev, classes: c.classes },
            c.minPixels,
          );
          assertClose(got.valid, expected.valid, 0, 0, "valid");
          assertClose(got.prototypes, expected.prototypes, 1e-5, 1e-4, "prototypes");
        },
      ),
      { seed: 42, numRuns: 25 },
    );
  },
);

Deno.test(
  "prototypes: a class below minPixels keeps its previous prototype",
  gpuTestOptions,
  async () => {
    // Class 0: 3 pixels, class 1: 1 pixel, class 2: none; minPixels 2.
    const targets = [0, 0, 1, 0, 255];
    const features = [1, 0, 2, 0, 0, 5, 3, 0, 9, 9];
    const previous = { prototypes: [0, 1, 0.6, 0.8, 1, 0], valid: [1, 1, 0] };
    const got = await runPrototypes([1, 1, 5], 3, 2, [features], [targets], previous, 2);
    assertClose(got.valid, [1, 1, 0], 0, 0, "valid");
    assertClose(got.prototypes, [1, 0, 0.6, 0.8, 1, 0], 1e-6, 0, "prototypes");
  },
);

Deno.test("prototypes: two runs are bit-identical", gpuTestOptions, async () => {
  const shape = [2, 37, 41];
  const pixels = sizeOf(shape);
  const width = 19;
  const features = Array.from(seededValues(pixels * width, 7, 3));
  const targets = Array.from(seededValues(pixels, 8), (v) => Math.floor((v + 1) * 3.5));
  const a = await runPrototypes(shape, 7, width, [features], [targets], undefined, 16);
  const b = await runPrototypes(shape, 7, width, [features], [targets], undefined, 16);
  if (!a.sums.every((v, i) => Object.is(v, b.sums[i]))) throw new Error("sums differ");
  if (!a.prototypes.every((v, i) => Object.is(v, b.prototypes[i]))) {
    throw new Error("prototypes differ");
  }
  const r = accumulatePrototypesReference(features, targets, 7, width);
  assertClose(a.sums, r.sums, 1e-3, 1e-5, "sums");
});
