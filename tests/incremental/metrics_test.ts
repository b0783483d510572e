import fc from "fast-check";
import { Effect } from "effect";
import {
  accumulateConfusion,
  accumulateConfusionFromPredictions,
  averageOverSteps,
  type ConfusionStrategy,
  confusionToMetrics,
  makeConfusion,
  readConfusion,
  resplitMetrics,
} from "../../src/incremental/metrics.ts";
import { taskClassesOf } from "../../src/incremental/data.ts";
import type { StepMetrics } from "../../src/incremental/types.ts";
import { fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu, runGpuResult } from "../support/gpu.ts";
import { seededValues } from "../support/arbitrary.ts";

/** The confusion matrix and bad count in plain TS, written independently of the kernel. */
const confusionReference = (
  scores: ArrayLike<number> | undefined,
  given: ArrayLike<number> | undefined,
  labels: ArrayLike<number>,
  channels: number,
  k: number,
) => {
  const matrix = new Array(k * k).fill(0);
  let bad = 0;
  for (let p = 0; p < labels.length; p++) {
    const label = labels[p];
    if (label === 255) continue;
    let pred = 0;
    if (given) pred = given[p];
    else {
      for (let c = 1; c < channels; c++) {
        if (scores![p * channels + c] > scores![p * channels + pred]) pred = c;
      }
    }
    if (label < 0 || label >= k || pred < 0 || pred >= k) bad++;
    else matrix[label * k + pred]++;
  }
  return { matrix, bad };
};

interface Case {
  k: number;
  channels: number;
  shape: number[];
  batches: { scores: number[]; labels: number[] }[];
  strategy: ConfusionStrategy;
}

// Labels mix valid classes, 255 and bad values; scores in {-1, 0, 1} make argmax ties common.
const caseArbitrary: fc.Arbitrary<Case> = fc
  .record({
    k: fc.integer({ min: 1, max: 9 }),
    shape: fc.tuple(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 13 }),
      fc.integer({ min: 1, max: 11 }),
    ),
    strategy: fc.constantFrom<ConfusionStrategy>("global", "local", "auto"),
  })
  .chain(({ k, shape, strategy }) =>
    fc.integer({ min: 1, max: k }).chain((channels) => {
      const pixels = shape[0] * shape[1] * shape[2];
      const batch = fc.record({
        scores: fc.array(fc.integer({ min: -1, max: 1 }), {
          minLength: pixels * channels,
          maxLength: pixels * channels,
        }),
        labels: fc.array(
          fc.oneof(
            { weight: 6, arbitrary: fc.integer({ min: 0, max: k - 1 }) },
            { weight: 2, arbitrary: fc.constant(255) },
            { weight: 1, arbitrary: fc.constantFrom(-1, k, k + 3, 254) },
          ),
          { minLength: pixels, maxLength: pixels },
        ),
      });
      return fc.record({
        k: fc.constant(k),
        channels: fc.constant(channels),
        shape: fc.constant([...shape]),
        batches: fc.array(batch, { minLength: 1, maxLength: 2 }),
        strategy: fc.constant(strategy),
      });
    })
  );

const gpuConfusion = (c: Case, fromPredictions: boolean) =>
  runGpu(Effect.gen(function* () {
    const confusion = yield* makeConfusion(c.k);
    for (const b of c.batches) {
      const labels = yield* fromArray(b.labels, c.shape, "i32");
      if (fromPredictions) {
        const predictions = yield* fromArray(predictionsOf(b, c), c.shape, "i32");
        yield* accumulateConfusionFromPredictions(confusion, predictions, labels, c.strategy);
      } else {
        const logits = yield* fromArray(b.scores, [...c.shape, c.channels], "f32");
        yield* accumulateConfusion(confusion, logits, labels, c.strategy);
      }
    }
    return yield* readConfusion(confusion);
  }));

// Given predictions include out-of-range values, which count as bad pixels.
const predictionsOf = (b: Case["batches"][number], c: Case) =>
  b.labels.map((_, p) => (b.scores[p * c.channels] + 1) * c.k - 1);

const referenceOf = (c: Case, fromPredictions: boolean) => {
  const matrix = new Array(c.k * c.k).fill(0);
  let bad = 0;
  for (const b of c.batches) {
    const r = fromPredictions
      ? confusionReference(undefined, predictionsOf(b, c), b.labels, 1, c.k)
      : confusionReference(b.scores, undefined, b.labels, c.channels, c.k);
    r.matrix.forEach((v, i) => matrix[i] += v);
    bad += r.bad;
  }
  return { matrix, bad };
};

Deno.test({
  name: "GPU confusion from logits equals the plain-TS confusion (ties, 255, bad labels)",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(caseArbitrary, async (c) => {
        const got = await gpuConfusion(c, false);
        const want = referenceOf(c, false);
        assertClose(got.matrix, want.matrix, 0, 0, `matrix ${c.strategy}`);
        if (got.badPixels !== want.bad) throw new Error(`bad ${got.badPixels} vs ${want.bad}`);
      }),
      { seed: 42, numRuns: 40 },
    );
  },
});

Deno.test({
  name: "GPU confusion from given predictions equals the plain-TS confusion",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(caseArbitrary, async (c) => {
        const got = await gpuConfusion(c, true);
        const want = referenceOf(c, true);
        assertClose(got.matrix, want.matrix, 0, 0, `matrix ${c.strategy}`);
        if (got.badPixels !== want.bad) throw new Error(`bad ${got.badPixels} vs ${want.bad}`);
      }),
      { seed: 42, numRuns: 25 },
    );
  },
});

Deno.test({
  name: "many workgroups, VOC-sized K, both kernels and a K too large for the local histogram",
  ...gpuTestOptions,
  fn: async () => {
    // 2 x 61 x 67 pixels span several histogram workgroups (4096 pixels each).
    const shape = [2, 61, 67];
    const pixels = 2 * 61 * 67;
    for (const [k, channels] of [[21, 16], [70, 70]]) {
      const scores = Array.from(seededValues(pixels * channels, 7 + k, 3), Math.round);
      const labels = Array.from(
        seededValues(pixels, 11 + k),
        (v, p) => p % 13 === 0 ? 255 : Math.floor((v + 1) / 2 * k * 1.05),
      );
      const want = confusionReference(scores, undefined, labels, channels, k);
      for (const strategy of ["global", "local", "auto"] as const) {
        if (k === 70 && strategy === "local") continue;
        const got = await gpuConfusion(
          { k, channels, shape, batches: [{ scores, labels }], strategy },
          false,
        );
        assertClose(got.matrix, want.matrix, 0, 0, `K ${k} ${strategy}`);
        if (got.badPixels !== want.bad) throw new Error(`bad ${got.badPixels} vs ${want.bad}`);
      }
    }
  },
});

Deno.test({
  name: "more logit channels than classes, or mismatched shapes, fail",
  ...gpuTestOptions,
  fn: async () => {
    const tooWide = await runGpuResult(Effect.gen(function* () {
      const confusion = yield* makeConfusion(2);
      const logits = yield* fromArray([0, 1, 2], [1, 1, 1, 3], "f32");
      const labels = yield* fromArray([0], [1, 1, 1], "i32");
      yield* accumulateConfusion(confusion, logits, labels);
    }));
    if (tooWide._tag !== "Failure") throw new Error("3 channels into K = 2 must fail");
    const mismatched = await runGpuResult(Effect.gen(function* () {
      const confusion = yield* makeConfusion(2);
      const predictions = yield* fromArray([0, 1], [1, 1, 2], "i32");
      const labels = yield* fromArray([0], [1, 1, 1], "i32");
      yield* accumulateConfusionFromPredictions(confusion, predictions, labels);
    }));
    if (mismatched._tag !== "Failure") throw new Error("mismatched shapes must fail");
  },
});

const context = {
  step: 1,
  seenClasses: [0, 1, 2],
  oldClasses: [0, 1],
  newClasses: [2],
  totalClasses: 3,
  images: 4,
};

Deno.test("IoU, mIoU and pixel accuracy on a hand-computed 3x3 matrix", () => {
  // Rows = ground truth. Class 0: TP 5, FN 1, FP 2 -> 5/8. Class 1: TP 3, FN 3, FP 2 -> 3/8.
  // Class 2: TP 2, FN 1, FP 1 -> 2/4.
  const m = confusionToMetrics([5, 1, 0, 2, 3, 1, 0, 1, 2], context);
  assertClose(m.iou.map((v) => v ?? NaN), [5 / 8, 3 / 8, 2 / 4], 1e-15, 0, "iou");
  assertClose([m.miouAll!], [(5 / 8 + 3 / 8 + 1 / 2) / 3], 1e-15, 0, "all");
  assertClose([m.miouOld!], [(5 / 8 + 3 / 8) / 2], 1e-15, 0, "old");
  assertClose([m.miouNew!], [1 / 2], 1e-15, 0, "new");
  assertClose([m.pixelAccuracy], [10 / 15], 1e-15, 0, "pixel accuracy");
  if (m.step !== 1 || m.images !== 4) throw new Error("step and images carried over");
});

Deno.test("classes without ground truth, and unseen classes, are left out of the means", () => {
  // Class 2 is predicted once but has no ground truth: IoU null, not 0.
  const m = confusionToMetrics([5, 1, 0, 2, 3, 1, 0, 0, 0], context);
  if (m.iou[2] !== null) throw new Error("class without ground truth must be null");
  if (m.miouNew !== null) throw new Error("no new class has ground truth: null");
  assertClose([m.miouAll!], [(5 / 8 + 3 / 7) / 2], 1e-15, 0, "all");
  // Class 2 has ground truth but is not seen yet: null too, and outside the means.
  const early = confusionToMetrics([5, 1, 0, 2, 3, 1, 0, 0, 4], {
    ...context,
    step: 0,
    seenClasses: [0, 1],
    newClasses: [],
  });
  if (early.iou[2] !== null || early.miouNew !== null) throw new Error("unseen class counted");
  assertClose([early.miouAll!], [(5 / 8 + 3 / 7) / 2], 1e-15, 0, "all at step 0");
  const empty = confusionToMetrics(new Array(9).fill(0), context);
  if (empty.miouAll !== null || empty.pixelAccuracy !== 0) throw new Error("empty matrix");
});

Deno.test("the average over steps skips steps without an mIoU", () => {
  const step = (miouAll: number | null) => ({ miouAll }) as StepMetrics;
  assertClose([averageOverSteps([step(0.5), step(null), step(0.25)])!], [0.375], 1e-15, 0);
  if (averageOverSteps([]) !== null) throw new Error("no steps: null");
});

Deno.test("resplitMetrics: old/new re-split equal the metrics of the other split's confusion", () => {
  fc.assert(
    fc.property(
      fc.array(fc.nat(50), { minLength: 36, maxLength: 36 }),
      fc.integer({ min: 1, max: 5 }),
      (cells, firstStep) => {
        const base = { step: 0, seenClasses: [0, 1, 2, 3, 4, 5], totalClasses: 6, images: 3 };
        const joint = confusionToMetrics(cells, {
          ...base,
          oldClasses: [0, 1, 2],
          newClasses: [3, 4, 5],
        });
        const old = Array.from({ length: firstStep }, (_, c) => c);
        const fresh = base.seenClasses.filter((c) => c >= firstStep);
        const expected = confusionToMetrics(cells, { ...base, oldClasses: old, newClasses: fresh });
        const got = resplitMetrics(joint, old);
        if (JSON.stringify(got) !== JSON.stringify(expected)) {
          throw new Error(`${JSON.stringify(got)} vs ${JSON.stringify(expected)}`);
        }
      },
    ),
    { seed: 7, numRuns: 100 },
  );
});

Deno.test("taskClassesOf: 19-1, 15-5, 15-1 and 10-1 share their classes; 15-1's first step differs", () => {
  const all = (task: string) =>
    JSON.stringify(taskClassesOf({ dataset: "synth", task })?.map(String).toSorted());
  if (new Set(["19-1", "15-5", "15-1", "10-1"].map(all)).size !== 1) {
    throw new Error("synthetic tasks disagree on their classes");
  }
  if (taskClassesOf({ dataset: "synth", task: "15-1" })?.length !== 21) {
    throw new Error("15-1 should cover 21 classes");
  }
  if (taskClassesOf({ dataset: "synth", task: "99-9" }) !== undefined) {
    throw new Error("an unknown task has no classes");
  }
});
