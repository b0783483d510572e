import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Effect } from "effect";
import { computeClassSets } from "../../src/data/classsets.ts";
import { createLoader } from "../../src/data/loader.ts";
import { validateSamples } from "../../src/data/validate.ts";
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

/**
 * A VOC folder whose list has, by line: 1 good, 2 truncated JPEG, 3 mask of
 * another size, 4 label 42 in the mask, 5 good, 6 a name with no files.
 */
async function writeBadVoc(root: string): Promise<void> {
  await writeVoc(root, "train", [
    { name: "good1", classes: [0, 1] },
    { name: "truncated", classes: [0, 2] },
    { name: "wrongsize", classes: [0, 3] },
    { name: "foreign", classes: [0, 4] },
    { name: "good2", classes: [0, 5] },
  ]);
  const jpg = await jpegOf(8, 8);
  await writeFile(`${root}/JPEGImages/truncated.jpg`, jpg.subarray(0, jpg.length >> 1));
  await writeFile(
    `${root}/SegmentationClass/wrongsize.png`,
    paletteMask(6, 8, maskWith(6, 8, [0, 3])),
  );
  await writeFile(
    `${root}/SegmentationClass/foreign.png`,
    paletteMask(8, 8, maskWith(8, 8, [0, 4, 42])),
  );
  await Deno.writeTextFile(
    `${root}/ImageSets/Segmentation/train.txt`,
    "good1\ntruncated\nwrongsize\nforeign\ngood2\nghost\n",
  );
}

Deno.test("bad data: a listed file that does not exist names the file, list and line; skipBad reports it", async () => {
  const dir = await tempDir();
  try {
    await writeBadVoc(dir.path);
    const list = `${dir.path}/ImageSets/Segmentation/train.txt`;
    const error = await failureOf(openVoc({ root: dir.path, split: "train" }));
    assertEquals(error._tag, "MissingSampleFileError");
    if (error._tag === "MissingSampleFileError") {
      assertEquals([error.file, error.listFile, error.line], [
        `${dir.path}/JPEGImages/ghost.jpg`,
        list,
        6,
      ]);
      assert(error.message.includes(`${list}:6`));
    }
    const dataset = await Effect.runPromise(
      openVoc({ root: dir.path, split: "train", skipBad: true }),
    );
    assertEquals(dataset.samples.length, 5);
    assertEquals(dataset.skipped.map((s) => [s.name, s.error._tag]), [[
      "ghost",
      "MissingSampleFileError",
    ]]);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("bad data: corrupt image, size mismatch and foreign labels are tagged errors with list and line", async () => {
  const dir = await tempDir();
  try {
    await writeBadVoc(dir.path);
    const list = `${dir.path}/ImageSets/Segmentation/train.txt`;
    const dataset = await Effect.runPromise(
      openVoc({ root: dir.path, split: "train", skipBad: true }),
    );
    const checked = await Effect.runPromise(validateSamples(dataset, { skipBad: true }));
    assertEquals(checked.samples.map((s) => s.name), ["good1", "good2"]);
    const byName = new Map(checked.skipped.map((s) => [s.name, s.error]));
    assertEquals([...byName.keys()].sort(), ["foreign", "ghost", "truncated", "wrongsize"]);
    const truncated = byName.get("truncated")!;
    assertEquals([truncated._tag, truncated.file, truncated.listFile, truncated.line], [
      "CorruptFileError",
      `${dir.path}/JPEGImages/truncated.jpg`,
      list,
      2,
    ]);
    const wrong = byName.get("wrongsize")!;
    assertEquals([wrong._tag, wrong.file, wrong.line], [
      "SizeMismatchError",
      `${dir.path}/SegmentationClass/wrongsize.png`,
      3,
    ]);
    if (wrong._tag === "SizeMismatchError") {
      assertEquals([wrong.imageSize, wrong.maskSize], [[8, 8], [6, 8]]);
    }
    const foreign = byName.get("foreign")!;
    assertEquals([foreign._tag, foreign.line], ["LabelOutOfRangeError", 4]);
    if (foreign._tag === "LabelOutOfRangeError") assertEquals(foreign.values, [42]);
    // Without skipBad the first bad sample stops the pass.
    assertEquals((await failureOf(validateSamples(dataset)))._tag, "CorruptFileError");
    // Class sets read masks only: the foreign label is caught there too.
    const sets = await failureOf(computeClassSets(dataset));
    assertEquals([sets._tag, sets.line], ["LabelOutOfRangeError", 4]);
    const skipping = await Effect.runPromise(computeClassSets(dataset, { skipBad: true }));
    assertEquals(skipping.skipped.map((s) => s.name), ["foreign"]);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("bad data: the loader fails on a bad sample, or skips and reports it under skipBad", async () => {
  const dir = await tempDir();
  try {
    await writeBadVoc(dir.path);
    const dataset = await Effect.runPromise(
      openVoc({ root: dir.path, split: "train", skipBad: true }),
    );
    const base = {
      samples: dataset.samples,
      info: dataset.info,
      batchSize: 5,
      augment: { kind: "eval", size: 8, mode: "resize" } as const,
      seed: 0,
    };
    const failing = createLoader(base).epoch(0);
    await failing.next().then(
      () => assert(false, "expected a rejection"),
      (error) => assertEquals(error._tag, "CorruptFileError"),
    );
    assertEquals(
      (await failureOf(createLoader(base).epoch(0).nextEffect()))._tag,
      "CorruptFileError",
    );
    const loader = createLoader({ ...base, skipBad: true });
    const batch = await loader.epoch(0).next();
    assertEquals(batch?.names, ["good1", "good2"]);
    assertEquals(batch?.size, 2);
    assertEquals(loader.skipped.map((s) => s.name), ["truncated", "wrongsize", "foreign"]);
  } finally {
    await dir.cleanup();
  }
});
