import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Effect } from "effect";
import { computeClassSets } from "../../src/data/classsets.ts";
import { readSample } from "../../src/data/sample.ts";
import { openVoc } from "../../src/data/voc.ts";
import {
  failureOf,
  jpegOf,
  maskWith,
  paletteMask,
  tempDir,
  writeFile,
  writeVoc,
} from "./fixtures.ts";

Deno.test("voc: reads a split, its images and palette masks as class indices", async () => {
  const dir = await tempDir();
  try {
    await writeVoc(dir.path, "train", [{ name: "a", classes: [0, 3] }, {
      name: "b",
      classes: [0, 15, 255],
    }]);
    const dataset = await Effect.runPromise(openVoc({ root: dir.path, split: "train" }));
    assertEquals(dataset.samples.map((s) => [s.name, s.line]), [["a", 1], ["b", 2]]);
    assertEquals(dataset.samples[0].image, `${dir.path}/JPEGImages/a.jpg`);
    assertEquals(dataset.samples[0].label, `${dir.path}/SegmentationClass/a.png`);
    const sample = await Effect.runPromise(readSample(dataset.samples[1], dataset.info));
    assertEquals(sample.image.width, 8);
    assertEquals(Array.from(sample.label.data.subarray(0, 3)), [0, 15, 255]);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("voc: train_aug lists of path pairs read SegmentationClassAug", async () => {
  const dir = await tempDir();
  try {
    await writeFile(`${dir.path}/JPEGImages/x.jpg`, await jpegOf(8, 8));
    await writeFile(
      `${dir.path}/SegmentationClassAug/x.png`,
      paletteMask(8, 8, maskWith(8, 8, [0, 7])),
    );
    await writeFile(`${dir.path}/JPEGImages/y.jpg`, await jpegOf(8, 8, 1));
    await writeFile(
      `${dir.path}/SegmentationClassAug/y.png`,
      paletteMask(8, 8, maskWith(8, 8, [0, 9])),
    );
    await writeFile(
      `${dir.path}/ImageSets/SegmentationAug/train_aug.txt`,
      "/JPEGImages/x.jpg /SegmentationClassAug/x.png\n\ny\n",
    );
    const dataset = await Effect.runPromise(openVoc({ root: dir.path, split: "train_aug" }));
    assertEquals(dataset.listFile, `${dir.path}/ImageSets/SegmentationAug/train_aug.txt`);
    assertEquals(dataset.samples.map((s) => [s.name, s.line]), [["x", 1], ["y", 3]]);
    assertEquals(dataset.samples[1].label, `${dir.path}/SegmentationClassAug/y.png`);
    const sets = await Effect.runPromise(computeClassSets(dataset));
    assertEquals(sets.classSets, [[0, 7], [0, 9]]);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("voc: a missing list file names the file", async () => {
  const dir = await tempDir();
  try {
    const error = await failureOf(openVoc({ root: dir.path, split: "val" }));
    assertEquals(error._tag, "ListFileMissingError");
    if (error._tag === "ListFileMissingError") {
      assertEquals(error.file, `${dir.path}/ImageSets/Segmentation/val.txt`);
    }
    assert(error.message.includes("val.txt"));
  } finally {
    await dir.cleanup();
  }
});
