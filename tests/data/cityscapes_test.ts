import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Effect } from "effect";
import { openCityscapes, samplesOfDomains } from "../../src/data/cityscapes.ts";
import { computeClassSets } from "../../src/data/classsets.ts";
import { readSample } from "../../src/data/sample.ts";
import { findTask, seenDomains } from "../../src/data/tasks.ts";
import type { DomainTask } from "../../src/data/tasks.ts";
import { failureOf, greyMask, maskWith, rgbPngOf, tempDir, writeFile } from "./fixtures.ts";

async function writeCity(
  root: string,
  split: string,
  city: string,
  names: string[],
  labelIds: number[],
) {
  for (const [i, name] of names.entries()) {
    await writeFile(
      `${root}/leftImg8bit/${split}/${city}/${name}_leftImg8bit.png`,
      rgbPngOf(8, 4, i),
    );
    await writeFile(
      `${root}/gtFine/${split}/${city}/${name}_gtFine_labelIds.png`,
      greyMask(8, 4, maskWith(8, 4, labelIds)),
    );
  }
}

Deno.test("cityscapes: labelIds map to trainIds, everything else to 255; cities are domains", async () => {
  const dir = await tempDir();
  try {
    const root = dir.path;
    // road 7 -> 0, car 26 -> 13, unlabeled 0 -> 255, bicycle 33 -> 18, ego vehicle 1 -> 255, sky 23 -> 10
    await writeCity(root, "train", "bremen", ["bremen_000001_000019"], [7, 26, 0, 33, 1, 23]);
    await writeCity(root, "train", "aachen", ["aachen_000000_000019", "aachen_000001_000019"], [
      7,
      8,
    ]);
    await writeCity(root, "val", "lindau", ["lindau_000000_000019"], [11, 24]);
    const train = await Effect.runPromise(openCityscapes({ root, split: "train" }));
    assertEquals(train.samples.map((s) => [s.domain, s.name]), [
      ["aachen", "aachen_000000_000019"],
      ["aachen", "aachen_000001_000019"],
      ["bremen", "bremen_000001_000019"],
    ]);
    const sample = await Effect.runPromise(readSample(train.samples[2], train.info));
    assertEquals(Array.from(sample.label.data.subarray(0, 6)), [0, 13, 255, 18, 255, 10]);
    assertEquals([sample.image.width, sample.image.height], [8, 4]);
    const all = await Effect.runPromise(openCityscapes({ root, split: "trainval" }));
    assertEquals(all.samples.length, 4);
    const sets = await Effect.runPromise(computeClassSets(all));
    assertEquals(sets.classSets[3], [2, 11]);
    const task = findTask("cityscapes/1-1") as DomainTask;
    assertEquals(seenDomains(task, 1), ["aachen", "bremen"]);
    assertEquals(samplesOfDomains(all, seenDomains(task, 1)).map((s) => s.domain), [
      "aachen",
      "aachen",
      "bremen",
    ]);
    const only = await Effect.runPromise(
      openCityscapes({ root, split: "train", cities: ["bremen"] }),
    );
    assertEquals(only.samples.length, 1);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("cityscapes: missing labelIds mask and missing split folder", async () => {
  const dir = await tempDir();
  try {
    await writeCity(dir.path, "train", "ulm", ["ulm_000000_000019"], [7]);
    await Deno.remove(`${dir.path}/gtFine/train/ulm/ulm_000000_000019_gtFine_labelIds.png`);
    const error = await failureOf(openCityscapes({ root: dir.path, split: "train" }));
    assertEquals(error._tag, "MissingSampleFileError");
    assertEquals(
      (await failureOf(openCityscapes({ root: dir.path, split: "val" })))._tag,
      "DatasetLayoutError",
    );
  } finally {
    await dir.cleanup();
  }
});
