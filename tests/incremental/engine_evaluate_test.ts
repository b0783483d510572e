/**
 * Evaluation after a step (`evaluateStep`) on a tiny synthetic test split,
 * against counts made here from the masks read directly: labels of classes
 * not yet seen and 255 are ignored, the confusion matrix, per-class IoU,
 * the mIoU of old, new and all classes and pixel accuracy equal a plain
 * per-pixel count. A stand-in model gives predictions chosen by the test
 * (right on most pixels, wrong on others); a real DeepLabV3 gives the
 * argmax of its own eval-mode logits, and evaluation leaves its batch-norm
 * statistics alone. The report's strips carry the image bytes, the
 * evaluation labels and the predictions of the first images in order.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Effect } from "effect";
import { readSample, type Task, writeSyntheticVoc } from "../../src/data/mod.ts";
import { SeededRng } from "../../src/util/rng.ts";
import { constant } from "../../src/autograd/tape.ts";
import { evaluateStep } from "../../src/incremental/evaluate.ts";
import { evalLoader, openRunData, type RunData } from "../../src/incremental/data.ts";
import type { StepMetrics } from "../../src/incremental/types.ts";
import { deepLabConfig, type DeepLabV3, makeDeepLabV3 } from "../../src/nn/mod.ts";
import { download, fromArray, type Tensor } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { assertSameArray, tinyTrainConfig } from "../support/train_cli.ts";

const SIZE = 32;
const TEST_IMAGES = 5;

const root = await Deno.makeTempDir({ prefix: "gsc-evaluate-" });
globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
await Effect.runPromise(
  writeSyntheticVoc({
    root: `${root}/data`,
    size: SIZE,
    counts: { train: 4, val: 2, test: TEST_IMAGES },
    seed: 8,
  }),
);
// 15-5: step 0 learns 0..15, step 1 learns 16..20. Batch 2: the last batch holds one image.
const config = tinyTrainConfig({
  data: `${root}/data`,
  out: `${root}/run`,
  task: "15-5",
  seed: 2,
  epochs: 1,
  epochsNext: 1,
  strips: 0,
  batchSize: 2,
});
const data: RunData = await Effect.runPromise(openRunData(config, "eval"));
const task = data.task as Task & { kind: "class" };
const K = 21;

interface Image {
  readonly name: string;
  readonly rgb: Uint8Array;
  /** The mask's classes as written (0..20, 255). */
  readonly raw: Uint8Array;
}

/** The test split's images and masks as the files hold them, in list order. */
const images: Image[] = [];
for (const ref of data.evaluation.samples) {
  const sample = await Effect.runPromise(readSample(ref, data.evaluation.info));
  assertEquals([sample.image.width, sample.image.height], [SIZE, SIZE]);
  images.push({ name: ref.name, rgb: sample.image.data, raw: sample.label.data });
}
assertEquals(images.length, TEST_IMAGES);

/** The evaluation label after step t: a class not seen yet is ignored (255). */
const labelAfter = (t: number, raw: number) =>
  raw !== 255 && task.steps.slice(0, t + 1).flat().includes(raw) ? raw : 255;

/** The metrics of a step from per-pixel predictions, by plain counting (no matrix). */
const expectedMetrics = (t: number, predictions: readonly Int32Array[]): StepMetrics => {
  const seen = task.steps.slice(0, t + 1).flat().sort((a, b) => a - b);
  const iou: (number | null)[] = new Array(K).fill(null);
  for (const c of seen) {
    let truth = 0;
    let both = 0;
    let either = 0;
    images.forEach((image, i) => {
      for (let p = 0; p < image.raw.length; p++) {
        const label = labelAfter(t, image.raw[p]);
        if (label === 255) continue;
        const predicted = predictions[i][p];
        if (label === c) truth++;
        if (label === c && predicted === c) both++;
        if (label === c || predicted === c) either++;
      }
    });
    if (truth > 0) iou[c] = both / either;
  }
  const mean = (classes: readonly number[]) => {
    const present = classes.map((c) => iou[c]).filter((v): v is number => v !== null);
    return present.length === 0 ? null : present.reduce((a, b) => a + b, 0) / present.length;
  };
  let right = 0;
  let counted = 0;
  images.forEach((image, i) => {
    for (let p = 0; p < image.raw.length; p++) {
      const label = labelAfter(t, image.raw[p]);
      if (label === 255) continue;
      counted++;
      if (predictions[i][p] === label) right++;
    }
  });
  const newClasses = task.steps.slice(1, t + 1).flat();
  return {
    step: t,
    seenClasses: seen,
    oldClasses: [...task.steps[0]],
    newClasses,
    iou,
    miouAll: mean(seen),
    miouOld: mean(task.steps[0]),
    miouNew: mean(newClasses),
    pixelAccuracy: right / counted,
    images: TEST_IMAGES,
    pixels: counted,
  };
};

/**
 * Predictions for step t with `channels` classes: the evaluation label on
 * about 60% of the counted pixels, a seeded class elsewhere (and on ignored ones).
 */
const chosenPredictions = (t: number, channels: number) => {
  const rng = new SeededRng(40 + t);
  return images.map((image) =>
    Int32Array.from(image.raw, (raw) => {
      const label = labelAfter(t, raw);
      return label !== 255 && rng.float() < 0.6 ? label : rng.int(0, channels - 1);
    })
  );
};

/**
 * A stand-in for the model: batch b's logits put 1 on the chosen class of
 * each pixel and a seeded value in [-1, 0.5) elsewhere. It reads nothing of
 * the images, so it only agrees with the counts above if evaluation feeds
 * the split's images in list order, two per batch.
 */
const standIn = (predictions: readonly Int32Array[], channels: number, calls: number[]) => {
  const pixels = SIZE * SIZE;
  let next = 0;
  const forward = (input: Tensor<"f32">, options: { mode: string }) =>
    Effect.gen(function* () {
      calls.push(input.shape[0]);
      assertEquals(options.mode, "eval");
      const n = input.shape[0];
      const rng = new SeededRng(7, next);
      const logits = new Float32Array(n * pixels * channels);
      for (let i = 0; i < n; i++) {
        const chosen = predictions[next + i];
        for (let p = 0; p < pixels; p++) {
          for (let c = 0; c < channels; c++) {
            logits[(i * pixels + p) * channels + c] = c === chosen[p] ? 1 : rng.uniform(-1, 0.5);
          }
        }
      }
      next += n;
      const value = yield* fromArray(logits, [n, SIZE, SIZE, channels], "f32");
      return { logits: constant(value), features: constant(value), stages: [] };
    });
  return { numClasses: channels, forward } as unknown as DeepLabV3;
};

for (const t of [0, 1]) {
  Deno.test(
    `after step ${t}: the confusion, IoU and mIoU of chosen predictions equal a per-pixel count`,
    gpuTestOptions,
    async () => {
      const channels = task.steps.slice(0, t + 1).flat().length;
      const predictions = chosenPredictions(t, channels);
      const calls: number[] = [];
      const evaluation = await runGpu(
        evaluateStep(
          standIn(predictions, channels, calls),
          task,
          t,
          evalLoader(data, config, t),
          3,
        ),
      );
      assertEquals(calls, [2, 2, 1]);
      const expected = expectedMetrics(t, predictions);
      assertEquals(evaluation.metrics, expected);

      // The split exercises every case: a seen class without ground truth (null IoU), ignored
      // pixels of classes not seen yet, and (after step 1) new classes with ground truth.
      const unseenPixels = images.flatMap((im) => [...im.raw])
        .filter((raw) => raw !== 255 && labelAfter(t, raw) === 255).length;
      assert(expected.seenClasses.some((c) => expected.iou[c] === null));
      if (t === 0) {
        assert(unseenPixels > 0, "step 0 must ignore pixels of later classes");
        assertEquals(expected.miouNew, null);
      } else assert(expected.newClasses.some((c) => expected.iou[c] !== null));
      assert(expected.iou.some((v) => v !== null && v > 0 && v < 1));

      // Strips: the first three images in order, their bytes, evaluation labels and predictions.
      assertEquals(evaluation.strips.map((s) => s.name), images.slice(0, 3).map((im) => im.name));
      evaluation.strips.forEach((strip, i) => {
        assertEquals([strip.width, strip.height], [SIZE, SIZE]);
        const labels = Int32Array.from(images[i].raw, (raw) => labelAfter(t, raw));
        assertSameArray(strip.rgb, images[i].rgb, `strip ${i}: image`);
        assertSameArray(strip.label, labels, `strip ${i}: labels`);
        assertSameArray(strip.prediction, predictions[i], `strip ${i}: prediction`);
      });
    },
  );
}

Deno.test(
  "a real model is evaluated by the argmax of its eval-mode logits and keeps its BN statistics",
  gpuTestOptions,
  async () => {
    const t = 0;
    const { metrics, logits, statsBefore, statsAfter } = await runGpu(Effect.gen(function* () {
      const scope = yield* Effect.scope;
      const model = yield* makeDeepLabV3(deepLabConfig("small", 8, 16), { seed: 12, scope });
      const stats = model.stateEntries().find((e) => e.name === "backbone.bn1.running_mean")!;
      const statsBefore = yield* download(stats.tensor());
      const evaluation = yield* evaluateStep(model, task, t, evalLoader(data, config, t), 0);
      const statsAfter = yield* download(stats.tensor());
      // The same batches through the model here, in eval mode.
      const logits: Float32Array[] = [];
      const stream = evalLoader(data, config, t).epoch(0);
      while (true) {
        const batch = yield* stream.nextEffect();
        if (!batch) break;
        const input = yield* fromArray(batch.images, [batch.size, SIZE, SIZE, 3], "f32");
        const out = yield* model.forward(input, { mode: "eval" });
        logits.push(yield* download(out.logits.value));
      }
      return { metrics: evaluation.metrics, logits, statsBefore, statsAfter };
    }));
    assertSameArray(statsAfter, statsBefore, "running mean");
    const channels = 16;
    const all = new Float32Array(logits.reduce((n, l) => n + l.length, 0));
    logits.reduce((offset, l) => (all.set(l, offset), offset + l.length), 0);
    const pixels = SIZE * SIZE;
    const predictions = images.map((_, i) =>
      Int32Array.from({ length: pixels }, (_, p) => {
        const base = (i * pixels + p) * channels;
        let best = 0;
        for (let c = 1; c < channels; c++) if (all[base + c] > all[base + best]) best = c;
        return best;
      })
    );
    // A random model still predicts more than one class.
    assert(new Set(predictions.flatMap((p) => [...p])).size > 1);
    assertEquals(metrics, expectedMetrics(t, predictions));
  },
);
