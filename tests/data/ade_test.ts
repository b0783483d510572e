import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Effect } from "effect";
import { openAde20k } from "../../src/data/ade.ts";
import { computeClassSets } from "../../src/data/classsets.ts";
import { applyLut, evalLut } from "../../src/data/labels.ts";
import { readSample } from "../../src/data/sample.ts";
import { findTask, stepClasses } from "../../src/data/tasks.ts";
import { failureOf, greyMask, jpegOf, maskWith, tempDir, writeFile } from "./fixtures.ts";

async function writeAde(
  root: string,
  split: string,
  samples: { name: string; classes: number[] }[],
) {
  for (const [i, s] of samples.entries()) {
    await writeFile(`${root}/images/${split}/${s.name}.jpg`, await jpegOf(8, 8, i));
    await writeFile(
      `${root}/annotations/${split}/${s.name}.png`,
      greyMask(8, 8, maskWith(8, 8, s.classes)),
    );
  }
}

Deno.test("ade20k: reads sorted images with grey annotations; 0 is ignored at evaluation", async () => {
  const dir = await tempDir();
  try {
    await writeAde(dir.path, "validation", [
      { name: "ADE_val_00000002", classes: [0, 150] },
      { name: "ADE_val_00000001", classes: [0, 1, 101] },
    ]);
    const dataset = await Effect.runPromise(openAde20k({ root: dir.path, split: "val" }));
    assertEquals(dataset.split, "validation");
    assertEquals(dataset.samples.map((s) => s.name), ["ADE_val_00000001", "ADE_val_00000002"]);
    const sets = await Effect.runPromise(computeClassSets(dataset));
    assertEquals(sets.classSets, [[0, 1, 101], [0, 150]]);
    assertEquals(sets.cacheFile, `${dir.path}/class-sets.json`);
    const sample = await Effect.runPromise(readSample(dataset.samples[0], dataset.info));
    const lut = evalLut(stepClasses(findTask("ade20k/100-50")!, 0), dataset.info.zeroIgnoredAtEval);
    assertEquals(Array.from(applyLut(sample.label.data.subarray(0, 3), lut)), [255, 1, 255]);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("ade20k: missing annotation, unknown split and missing folder are tagged errors", async () => {
  const dir = await tempDir();
  try {
    await writeAde(dir.path, "training", [{ name: "ADE_train_1", classes: [0, 5] }, {
      name: "ADE_train_2",
      classes: [3],
    }]);
    await Deno.remove(`${dir.path}/annotations/training/ADE_train_2.png`);
    const missing = await failureOf(openAde20k({ root: dir.path, split: "training" }));
    assertEquals(missing._tag, "MissingSampleFileError");
    if (missing._tag === "MissingSampleFileError") {
      assertEquals(missing.file, `${dir.path}/annotations/training/ADE_train_2.png`);
      assertEquals(missing.line, 2);
    }
    const skipping = await Effect.runPromise(
      openAde20k({ root: dir.path, split: "training", skipBad: true }),
    );
    assertEquals(skipping.samples.map((s) => s.name), ["ADE_train_1"]);
    assertEquals(skipping.skipped.map((s) => s.name), ["ADE_train_2"]);
    assertEquals(
      (await failureOf(openAde20k({ root: dir.path, split: "test" })))._tag,
      "DatasetLayoutError",
    );
    assertEquals(
      (await failureOf(openAde20k({ root: dir.path, split: "validation" })))._tag,
      "DatasetLayoutError",
    );
  } finally {
    await dir.cleanup();
  }
});
