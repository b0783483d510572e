/**
 * The passes a method runs over a step's training images before and after
 * training (`makeDataPass`): the images of the step's overlapped filter in
 * list order, through the training augmentation at the crop (random scale,
 * pad, crop and flip, as PLOP's thresholds pass sees its train loader's
 * images) with the pass's own draws (`passSeed`), the last incomplete
 * batch dropped (PLOP's drop_last), normalised with ImageNet's statistics,
 * with the step's training targets (current classes kept, old and future
 * ones 0, 255 kept), two passes alike. A method receives the models'
 * eval-mode outputs (the old model's with its own classes), and a pass
 * trains nothing and moves no batch-norm statistic. At step 0 there is no
 * old model: `withOldModel` visits nothing.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { ClassTask } from "../../src/data/tasks.ts";
import { Effect } from "effect";
import {
  augmentTrain,
  IMAGENET_MEAN,
  IMAGENET_STD,
  readSample,
  SeededRng,
  writeSyntheticVoc,
} from "../../src/data/mod.ts";
import { makeDataPass } from "../../src/incremental/data_pass.ts";
import { openRunData, passSeed, type RunData } from "../../src/incremental/data.ts";
import { scaleRangeOf } from "../../src/incremental/splits.ts";
import type { BatchInput, NewOutputs, OldOutputs } from "../../src/incremental/method.ts";
import { modelConfigFor } from "../../src/incremental/model_config.ts";
import { type DeepLabV3, makeDeepLabV3 } from "../../src/nn/mod.ts";
import { download } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { assertSameArray, tinyTrainConfig } from "../support/train_cli.ts";

/** Written larger than the crop: the pass scales and crops. */
const SIZE = 48;
const CROP = 32;

const root = await Deno.makeTempDir({ prefix: "gsc-data-pass-" });
globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
await Effect.runPromise(
  writeSyntheticVoc({ root: `${root}/data`, size: SIZE, counts: { train: 13, val: 1, test: 1 } }),
);
// 15-5 (step 0: 0..15, step 1: 16..20), overlapped, batch 2.
const config = tinyTrainConfig({
  data: `${root}/data`,
  out: `${root}/run`,
  task: "15-5",
  seed: 6,
  epochs: 1,
  epochsNext: 1,
  strips: 0,
  batchSize: 2,
});
assertEquals(config.crop, CROP);
const data: RunData = await Effect.runPromise(openRunData(config));
const STEPS = (data.task as ClassTask).steps;

interface Expected {
  readonly name: string;
  readonly images: Float32Array;
  readonly labels: Int32Array;
}

/**
 * The images step t's passes see, from the files: those with a pixel of a
 * class the step learns (0 aside), in list order, the last incomplete batch
 * of 2 left out; the one at position p augmented as the training loader
 * does with the pass's seed (scale, pad, crop, flip; bilinear image,
 * nearest mask), normalised, and the mask mapped to the step's targets.
 */
const expectedImages = async (t: number): Promise<Expected[]> => {
  const current = STEPS[t];
  const kept: Expected[] = [];
  for (const ref of data.train.samples) {
    const sample = await Effect.runPromise(readSample(ref, data.train.info));
    assertEquals([sample.image.width, sample.image.height], [SIZE, SIZE]);
    if (!sample.label.data.some((c) => c !== 0 && current.includes(c))) continue;
    const rng = new SeededRng(passSeed(config, t), "augment", 0, kept.length);
    const pair = augmentTrain(
      sample,
      { kind: "train", cropSize: CROP, scaleRange: scaleRangeOf(config) },
      rng,
    );
    kept.push({
      name: ref.name,
      images: Float32Array.from(
        pair.image.data,
        (v, i) => (v / 255 - IMAGENET_MEAN[i % 3]) / IMAGENET_STD[i % 3],
      ),
      labels: Int32Array.from(
        pair.label.data,
        (c) => (c === 255 ? 255 : current.includes(c) ? c : 0),
      ),
    });
  }
  return kept.slice(0, kept.length - (kept.length % 2));
};

/** What one visit saw: the batch on the host and the outputs it was handed. */
interface Seen {
  readonly size: number;
  readonly shape: readonly number[];
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly current?: Float32Array;
  readonly old?: { logits: Float32Array; channels: number; stages: number } | undefined;
  /** The same images through the models here, eval mode. */
  readonly currentHere?: Float32Array;
  readonly oldHere?: Float32Array;
}

const record = (
  input: BatchInput,
  model: DeepLabV3,
  oldModel: DeepLabV3 | undefined,
  current: NewOutputs | undefined,
  old: OldOutputs | undefined,
) =>
  Effect.gen(function* () {
    const seen: Seen = {
      size: input.size,
      shape: [...input.images.shape, input.height, input.width],
      images: yield* download(input.images),
      labels: yield* download(input.labels),
      current: current ? yield* download(current.logits.value) : undefined,
      old: old
        ? {
          logits: yield* download(old.logits),
          channels: old.logits.shape[3],
          stages: old.stages.length,
        }
        : undefined,
      currentHere: current
        ? yield* download((yield* model.forward(input.images, { mode: "eval" })).logits.value)
        : undefined,
      oldHere: old && oldModel
        ? yield* download((yield* oldModel.forward(input.images, { mode: "eval" })).logits.value)
        : undefined,
    };
    return seen;
  });

/** The pass's batches joined back into one image list. */
const unbatch = (seen: readonly Seen[]) =>
  seen.flatMap((s) =>
    Array.from({ length: s.size }, (_, i) => ({
      images: s.images.subarray(i * CROP * CROP * 3, (i + 1) * CROP * CROP * 3),
      labels: s.labels.subarray(i * CROP * CROP, (i + 1) * CROP * CROP),
    }))
  );

/** Checks the visited images against the expected ones, one for one and in order. */
const checkImages = (seen: readonly Seen[], expected: readonly Expected[], what: string) => {
  const visited = unbatch(seen);
  assertEquals(visited.length, expected.length, `${what}: images visited`);
  visited.forEach((v, i) => {
    assertSameArray(v.labels, expected[i].labels, `${what}: labels of ${expected[i].name}`);
    assertClose(v.images, expected[i].images, 1e-5, 1e-6, `${what}: image ${expected[i].name}`);
  });
  const sizes = seen.map((s) => s.size);
  assertEquals(sizes, sizes.map(() => 2));
  for (const s of seen) assertEquals(s.shape, [s.size, CROP, CROP, 3, CROP, CROP]);
};

/** A parameter and a running statistic of a model, to see that a pass changes neither. */
const watched = (model: DeepLabV3) =>
  Effect.gen(function* () {
    const pick = (name: string) => model.stateEntries().find((e) => e.name === name)!.tensor();
    return [
      yield* download(pick("backbone.conv1.weight")),
      yield* download(pick("backbone.bn1.running_mean")),
      yield* download(pick("backbone.bn1.running_var")),
      yield* download(pick("classifier.4.weight")),
    ];
  });

Deno.test(
  "step 1: both passes visit the step's full batches once, in order, augmented as in training, with eval-mode outputs of both models",
  gpuTestOptions,
  async () => {
    const expected = await expectedImages(1);
    // Five images: the last, alone in its batch, is dropped.
    assertEquals(expected.length, 4);
    assert(expected.length < data.train.samples.length, "the filter must leave images out");
    const result = await runGpu(Effect.gen(function* () {
      const scope = yield* Effect.scope;
      const seen = STEPS[0].length + STEPS[1].length;
      const model = yield* makeDeepLabV3(modelConfigFor(config, seen), { seed: 3, scope });
      const oldModel = yield* makeDeepLabV3(modelConfigFor(config, STEPS[0].length), {
        seed: 4,
        trainable: false,
        scope,
      });
      const before = [...yield* watched(model), ...yield* watched(oldModel)];
      const pass = makeDataPass(data, config, 1, model, oldModel);
      const oldPass: Seen[] = [];
      yield* pass.withOldModel((input, old) =>
        Effect.map(
          record(input, model, oldModel, undefined, old),
          (s) => void oldPass.push(s),
        )
      );
      const bothPass: Seen[] = [];
      yield* pass.withBothModels((input, current, old) =>
        Effect.map(record(input, model, oldModel, current, old), (s) => void bothPass.push(s))
      );
      const after = [...yield* watched(model), ...yield* watched(oldModel)];
      return { oldPass, bothPass, before, after };
    }));
    checkImages(result.oldPass, expected, "withOldModel");
    checkImages(result.bothPass, expected, "withBothModels");
    for (const s of [...result.oldPass, ...result.bothPass]) {
      assertEquals(s.old?.channels, STEPS[0].length);
      assertEquals(s.old?.stages, 4);
      assertSameArray(s.old!.logits, s.oldHere!, "old logits");
    }
    for (const s of result.bothPass) {
      assertEquals(s.current!.length, s.size * CROP * CROP * 21);
      assertSameArray(s.current!, s.currentHere!, "current logits");
    }
    result.after.forEach((a, i) => assertSameArray(a, result.before[i], `watched tensor ${i}`));
  },
);

Deno.test(
  "step 0: withOldModel visits nothing; withBothModels hands every image with no old outputs",
  gpuTestOptions,
  async () => {
    const expected = await expectedImages(0);
    const result = await runGpu(Effect.gen(function* () {
      const scope = yield* Effect.scope;
      const model = yield* makeDeepLabV3(modelConfigFor(config, STEPS[0].length), {
        seed: 5,
        scope,
      });
      const pass = makeDataPass(data, config, 0, model, undefined);
      let oldVisits = 0;
      yield* pass.withOldModel(() => Effect.sync(() => void oldVisits++));
      const bothPass: Seen[] = [];
      let oldGiven = 0;
      yield* pass.withBothModels((input, current, old) =>
        Effect.gen(function* () {
          if (old !== undefined) oldGiven++;
          bothPass.push(yield* record(input, model, undefined, current, undefined));
        })
      );
      return { oldVisits, bothPass, oldGiven };
    }));
    assertEquals(result.oldVisits, 0);
    assertEquals(result.oldGiven, 0);
    checkImages(result.bothPass, expected, "withBothModels");
    for (const s of result.bothPass) {
      assertSameArray(s.current!, s.currentHere!, "current logits");
    }
  },
);
