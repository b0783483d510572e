import fc from "fast-check";
import { Effect } from "effect";
import {
  entropyHistogram,
  medianThresholds,
  plopPseudoLabels,
} from "../../../src/incremental/losses/mod.ts";
import { fillInto } from "../../../src/ops/core.ts";
import {
  entropyHistogramReference,
  plopEntropyReference,
  plopPseudoLabelsReference,
} from "../../reference/plop.ts";
import { download, empty, fromArray } from "../../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../../support/gpu.ts";

Deno.test("medianThresholds follows PLOP's find_median walk, quirks included", () => {
  // 4 bins of width 1/4; PLOP's running sum adds the bin INDEX, not its count.
  const histogram = [
    // [3, 1, 0, 0]: half 2 <= 0 + 3 at bin 0: median = 0 + 2/3 * 1/4 = 1/6.
    3,
    1,
    0,
    0,
    // [0, 1, 3, 0]: half 2; bin 0: 2 > 0 (running += 0); bin 1: 2 > 0 + 1
    // (running += 1); bin 2: 1 <= 2 <= 4: median = 1/2 + (2 - 1)/3 * 1/4 = 7/12.
    0,
    1,
    3,
    0,
    // [0, 0, 0, 10]: half 5; running 0, 0, 1, 3; bin 3: 3 <= 5 <= 13:
    // 3/4 + (5 - 3)/10 * 1/4 = 0.8 (a true median would be 0.875).
    0,
    0,
    0,
    10,
    // Empty class: 0, raised to the floor 0.001.
    0,
    0,
    0,
    0,
    // [0, 0, 0, 2]: half 1; bin 2 has running 1 = half and count 0: 0 / 0 is
    // NaN in PLOP (no pixel is ever confident): -1 here.
    0,
    0,
    0,
    2,
  ];
  const t = medianThresholds(histogram, 4, 5);
  assertClose(t, [1 / 6, 7 / 12, 0.8, 0.001, -1], 1e-7, 1e-6, "thresholds");
  // The floor is a floor, not a cap: a 0.9 floor lifts every class.
  assertClose(medianThresholds(histogram, 4, 5, { floor: 0.9 }), [0.9, 0.9, 0.9, 0.9, -1], 1e-7, 0);
});

Deno.test({
  name: "pseudo labels and adaptive factor: hand-computed values",
  ...gpuTestOptions,
  fn: async () => {
    // 2 old classes, 3 seen. Normalised entropy e = -(sum_c p_c ln(p_c + 1e-8))
    // / (ln 2 * 2 * ln 3) (PLOP's entropy() is a mean over channels over ln C_old,
    // then divided by ln |seen|).
    // Pixel 0: logits [0, 0]: p = [1/2, 1/2], argmax 0, e = ln 2 / (2 ln 2 ln 3)
    //   = 1 / (2 ln 3) ~ 0.455 < threshold_0 = 0.5: confident -> 0.
    // Pixel 1: logits [0, 10]: argmax 1, e ~ 3.3e-4 > threshold_1 = 1e-4: -> 255.
    // Pixel 2: label 2 (new class): unchanged. Pixel 3: label 255: unchanged.
    // Image 0 = pixels 0, 1: 1 confident of 2 background pixels -> factor 1/2.
    // Image 1 = pixels 2, 3: no background pixel -> factor 1. Mean 3/4.
    const logits = [0, 0, 0, 10, 5, 0, 0, 5];
    const e0 = plopEntropyReference(logits, 0, 2, 3);
    assertClose([e0.entropy], [1 / (2 * Math.log(3))], 1e-7, 1e-7, "entropy");
    const out = await runGpu(Effect.gen(function* () {
      const old = yield* fromArray(logits, [2, 1, 2, 2], "f32");
      const labels = yield* fromArray([0, 0, 2, 255], [2, 1, 2], "i32");
      const thresholds = yield* fromArray([0.5, 1e-4], [2], "f32");
      const r = yield* plopPseudoLabels(old, labels, thresholds, 2, { seenClasses: 3 });
      return {
        targets: Array.from(yield* download(r.targets)),
        factor: Array.from(yield* download(r.adaptiveFactor)),
        weights: Array.from(yield* download(r.weights)),
      };
    }));
    assertClose(out.targets, [0, 255, 2, 255], 0, 0, "targets");
    assertClose(out.factor, [0.75], 1e-7, 0, "factor");
    assertClose(out.weights, [0.5, 0.5, 1, 1], 1e-7, 0, "weights");
  },
});

const cases = fc.record({
  n: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 1, max: 5 }),
  w: fc.integer({ min: 1, max: 7 }),
  old: fc.integer({ min: 2, max: 6 }),
  added: fc.integer({ min: 1, max: 3 }),
}).chain((s) => {
  const pixels = s.n * s.h * s.w;
  return fc.record({
    s: fc.constant(s),
    // Quarter integers plus a per-channel 1e-3 step: no two logits of a pixel
    // tie, so the argmax cannot differ between f32 and f64 (ties are PLOP's
    // torch.max's business, not a property).
    logits: fc.array(fc.integer({ min: -24, max: 24 }), {
      minLength: pixels * s.old,
      maxLength: pixels * s.old,
    }).map((v) => v.map((x, i) => x / 4 + (i % s.old) * 1e-3)),
    labels: fc.array(
      fc.oneof(
        fc.constant(0),
        fc.integer({ min: 0, max: s.old + s.added - 1 }),
        fc.constant(255),
      ),
      { minLength: pixels, maxLength: pixels },
    ),
    thresholds: fc.array(fc.constantFrom(0, 0.01, 0.03, 0.05, 0.2), {
      minLength: s.old,
      maxLength: s.old,
    }),
  });
});

// Entropies within this distance of a threshold or a bin edge may round
// either way in f32: such draws are skipped rather than compared.
const MARGIN = 1e-5;

Deno.test({
  name: "entropy histogram and pseudo labels: GPU matches the float64 reference",
  ...gpuTestOptions,
  fn: async () => {
    const bins = 100;
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(cases, async ({ s, logits, labels, thresholds }) => {
        const seen = s.old + s.added;
        const pixels = s.n * s.h * s.w;
        for (let p = 0; p < pixels; p++) {
          const e = plopEntropyReference(logits, p, s.old, seen).entropy;
          const edge = Math.abs(e * bins - Math.round(e * bins)) < MARGIN * bins;
          const near = thresholds.some((t) => Math.abs(e - t) < MARGIN);
          if (edge || near) return;
        }
        compared++;
        const out = await runGpu(Effect.gen(function* () {
          const old = yield* fromArray(logits, [s.n, s.h, s.w, s.old], "f32");
          const y = yield* fromArray(labels, [s.n, s.h, s.w], "i32");
          const histogram = yield* empty([s.old, bins], "u32");
          yield* fillInto(histogram, 0);
          // Two passes accumulate: the histogram doubles.
          yield* entropyHistogram(old, y, histogram, s.old, { seenClasses: seen });
          yield* entropyHistogram(old, y, histogram, s.old, { seenClasses: seen });
          const t = yield* fromArray(thresholds, [s.old], "f32");
          const r = yield* plopPseudoLabels(old, y, t, s.old, { seenClasses: seen });
          return {
            histogram: Array.from(yield* download(histogram)),
            targets: Array.from(yield* download(r.targets)),
            factor: (yield* download(r.adaptiveFactor))[0],
            weights: Array.from(yield* download(r.weights)),
          };
        }));
        const hist = entropyHistogramReference(logits, labels, s.old, bins, seen);
        assertClose(out.histogram, hist.map((v) => 2 * v), 0, 0, "histogram");
        const ref = plopPseudoLabelsReference(logits, labels, thresholds, s.old, seen, s.h * s.w);
        assertClose(out.targets, ref.targets, 0, 0, "targets");
        assertClose([out.factor], [ref.adaptiveFactor], 1e-6, 1e-6, "factor");
        assertClose(out.weights, ref.pixelWeights, 1e-6, 1e-6, "weights");
        // Pseudo labelling never touches a new-class or an ignored label.
        labels.forEach((y, p) => {
          if ((y >= s.old) && out.targets[p] !== y) throw new Error(`label ${y} changed`);
        });
      }),
      { seed: 42, numRuns: 25 },
    );
    // The margin must not turn the property into a no-op.
    if (compared < 20) throw new Error(`only ${compared} of 25 draws compared`);
  },
});
