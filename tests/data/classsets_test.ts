import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Effect } from "effect";
import { computeClassSets } from "../../src/data/classsets.ts";
import { openVoc } from "../../src/data/voc.ts";
import { maskWith, paletteMask, tempDir, writeFile, writeVoc } from "./fixtures.ts";

Deno.test("class sets: computed once, cached beside the list, invalidated when a mask or the list changes", async () => {
  const dir = await tempDir();
  try {
    const root = dir.path;
    await writeVoc(root, "train", [
      { name: "a", classes: [0, 1] },
      { name: "b", classes: [0, 2, 255] },
      { name: "c", classes: [5] },
      { name: "d", classes: [0, 19, 20] },
    ]);
    const open = () => Effect.runPromise(openVoc({ root, split: "train" }));
    const first = await Effect.runPromise(computeClassSets(await open()));
    assertEquals(first.classSets, [[0, 1], [0, 2, 255], [5], [0, 19, 20]]);
    assertEquals(first.fromCache, 0);
    assertEquals(first.cacheFile, `${root}/ImageSets/Segmentation/class-sets.json`);
    assert((await Deno.stat(first.cacheFile)).isFile);

    const second = await Effect.runPromise(computeClassSets(await open()));
    assertEquals(second.classSets, first.classSets);
    assertEquals(second.fromCache, 4);

    // Rewrite mask c with other classes and a later mtime: only c is recomputed.
    const maskC = `${root}/SegmentationClass/c.png`;
    await writeFile(maskC, paletteMask(8, 8, maskWith(8, 8, [0, 6, 7])));
    await Deno.utime(maskC, new Date(), new Date(Date.now() + 5000));
    const third = await Effect.runPromise(computeClassSets(await open()));
    assertEquals(third.classSets[2], [0, 6, 7]);
    assertEquals(third.fromCache, 3);

    // A changed list invalidates the whole entry.
    const list = `${root}/ImageSets/Segmentation/train.txt`;
    await Deno.writeTextFile(list, "d\na\n");
    await Deno.utime(list, new Date(), new Date(Date.now() + 10000));
    const fourth = await Effect.runPromise(computeClassSets(await open()));
    assertEquals(fourth.classSets, [[0, 19, 20], [0, 1]]);
    assertEquals(fourth.fromCache, 0);

    // Another list shares the cache file under its own key.
    await writeVoc(root, "val", [{ name: "e", classes: [0, 4] }]);
    const val = await Effect.runPromise(
      computeClassSets(await Effect.runPromise(openVoc({ root, split: "val" }))),
    );
    assertEquals(val.classSets, [[0, 4]]);
    const again = await Effect.runPromise(computeClassSets(await open()));
    assertEquals(again.fromCache, 2);
    const cache = JSON.parse(await Deno.readTextFile(first.cacheFile));
    assertEquals(Object.keys(cache.entries).length, 2);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("class sets: a corrupt cache file is rebuilt", async () => {
  const dir = await tempDir();
  try {
    await writeVoc(dir.path, "train", [{ name: "a", classes: [0, 3] }]);
    await Deno.writeTextFile(`${dir.path}/ImageSets/Segmentation/class-sets.json`, "{not json");
    const dataset = await Effect.runPromise(openVoc({ root: dir.path, split: "train" }));
    const sets = await Effect.runPromise(computeClassSets(dataset));
    assertEquals(sets.classSets, [[0, 3]]);
    assertEquals(sets.cacheWriteError, undefined);
    assertEquals((await Effect.runPromise(computeClassSets(dataset))).fromCache, 1);
  } finally {
    await dir.cleanup();
  }
});
