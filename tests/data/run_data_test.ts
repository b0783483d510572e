/**
 * A run's data as `openRunData` opens it before step 0: a plain VOC 2012
 * root (no SBD) trains with `--train-split train` and is told so without
 * it; every image and mask of both splits is checked once (and cached);
 * a step with fewer images than one batch stops the run up front.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Effect } from "effect";
import { parseTrainOptions } from "../../src/cli/train_options.ts";
import { computeClassSets } from "../../src/data/classsets.ts";
import { readSample } from "../../src/data/sample.ts";
import { openRunData, stepSamples } from "../../src/incremental/data.ts";
import { openSplit, openTrainSplit } from "../../src/incremental/splits.ts";
import type { RunConfig } from "../../src/incremental/types.ts";
import { failure, ok } from "../cli/support.ts";
import { failureOf, jpegOf, tempDir, writeFile, writeVoc } from "./fixtures.ts";

/** A plain VOC root: JPEGImages, palette masks in SegmentationClass, train and val lists. */
const writePlainVoc = async (root: string) => {
  await writeVoc(root, "train", [
    { name: "a", classes: [0, 3] },
    { name: "b", classes: [0, 15, 255] },
    { name: "c", classes: [0, 20] },
    { name: "d", classes: [0, 20, 5] },
  ]);
  await writeVoc(root, "val", [{ name: "v", classes: [0, 7, 20] }]);
};

/** The configuration `gsc train` builds for this root (19-1, batch 2). */
const vocConfig = (root: string, ...extra: string[]): RunConfig =>
  ok(parseTrainOptions([
    ...["--dataset", "voc", "--data-root", root, "--task", "19-1", "--batch-size", "2"],
    ...["--out", `${root}/run`, ...extra],
  ])).config;

Deno.test("plain VOC without SBD: the default names --train-split train; with it the run opens", async () => {
  const dir = await tempDir();
  try {
    await writePlainVoc(dir.path);
    const refused = await failureOf(openRunData(vocConfig(dir.path)));
    assertEquals(refused._tag, "RunSetupError");
    assert(refused.message.includes("no train_aug list"), refused.message);
    assert(refused.message.includes("--train-split train"), refused.message);
    assert(refused.message.includes(`${dir.path}/ImageSets/Segmentation/train.txt`));

    const config = vocConfig(dir.path, "--train-split", "train");
    assertEquals(config.trainSplit, "train");
    const data = await Effect.runPromise(openRunData(config));
    assertEquals(data.train.labelDir, `${dir.path}/SegmentationClass`);
    assertEquals(data.trainSamples.map((s) => s.name), ["a", "b", "c", "d"]);
    assertEquals(data.trainClassSets, [[0, 3], [0, 15, 255], [0, 20], [0, 5, 20]]);
    assertEquals(stepSamples(data, config, 0).map((s) => s.name), ["a", "b", "d"]);
    assertEquals(stepSamples(data, config, 1).map((s) => s.name), ["c", "d"]);
    // The palette index is the class: b's mask cycles 0, 15, 255.
    const b = await Effect.runPromise(readSample(data.trainSamples[1], data.train.info));
    assertEquals(Array.from(b.label.data.subarray(0, 4)), [0, 15, 255, 0]);
    assertEquals([b.image.width, b.image.height], [8, 8]);
    assertEquals(data.evaluation.samples.map((s) => s.name), ["v"]);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("a missing training list lists the splits the root has", async () => {
  const dir = await tempDir();
  try {
    await writePlainVoc(dir.path);
    const error = await failureOf(openTrainSplit(vocConfig(dir.path, "--train-split", "trian")));
    assert(error.message.includes("training split 'trian'"), error.message);
    assert(error.message.includes("lists there: train, val"), error.message);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("every image of both splits is decoded before training, once", async () => {
  const dir = await tempDir();
  try {
    await writePlainVoc(dir.path);
    const config = vocConfig(dir.path, "--train-split", "train");
    await Effect.runPromise(openRunData(config));
    const train = await Effect.runPromise(openTrainSplit(config));
    const again = await Effect.runPromise(computeClassSets(train, { validateImages: true }));
    assertEquals(again.fromCache, 4);

    // A truncated training image (same mask) is found although the masks are cached.
    const jpeg = await jpegOf(8, 8, 2);
    await writeFile(`${dir.path}/JPEGImages/c.jpg`, jpeg.subarray(0, 40));
    const corrupt = await failureOf(openRunData(config));
    assertEquals(corrupt._tag, "CorruptFileError");
    assert(corrupt.message.includes("c.jpg"), corrupt.message);
    await writeFile(`${dir.path}/JPEGImages/c.jpg`, jpeg);

    // An evaluation image whose size differs from its mask.
    await writeFile(`${dir.path}/JPEGImages/v.jpg`, await jpegOf(10, 8));
    const mismatch = await failureOf(openRunData(config));
    assertEquals(mismatch._tag, "SizeMismatchError");
    assert(mismatch.message.includes("v.png is 8x8 but image"), mismatch.message);
    assert(mismatch.message.includes("val.txt:1"), mismatch.message);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("a step with fewer training images than one batch stops the run before step 0", async () => {
  const dir = await tempDir();
  try {
    await writePlainVoc(dir.path);
    const error = await failureOf(
      openRunData(vocConfig(dir.path, "--train-split", "train", "--batch-size", "3")),
    );
    assertEquals(error._tag, "RunSetupError");
    assertEquals(
      error.message,
      "--batch-size 3: every step needs at least one full batch of training images, but " +
        "step 1 (classes 20) has 2 (overlapped filter of the train split); lower --batch-size " +
        "or train on a larger split",
    );
    // gsc eval does not train: the same data opens for it.
    const data = await Effect.runPromise(
      openRunData(vocConfig(dir.path, "--train-split", "train", "--batch-size", "3"), "eval"),
    );
    assertEquals(data.evaluation.samples.length, 1);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("split names a reader does not know are refused, not read as another split", async () => {
  const dir = await tempDir();
  try {
    const cityscapes = ["--dataset", "cityscapes", "--data-root", dir.path];
    assertEquals(
      failure(parseTrainOptions([...cityscapes, "--eval-split", "test"])),
      "--eval-split: unknown value 'test'; expected one of train, val, trainval",
    );
    assert(
      failure(parseTrainOptions([...cityscapes, "--train-split", "trian"])).startsWith(
        "--train-split: unknown value 'trian'",
      ),
    );
    // gsc eval --split reaches the reader unchecked: Cityscapes no longer reads it as train.
    const { config } = ok(parseTrainOptions(cityscapes));
    const error = await failureOf(openSplit(config, "test"));
    assertEquals(error._tag, "DatasetLayoutError");
    assert(error.message.includes('unknown Cityscapes split "test"'), error.message);
  } finally {
    await dir.cleanup();
  }
});
