import {
  deepStrictEqual as assertEquals,
  notDeepStrictEqual as assertNotEquals,
  ok as assert,
} from "node:assert/strict";
import { Effect } from "effect";
import { computeClassSets } from "../../src/data/classsets.ts";
import { filterImages } from "../../src/data/filter.ts";
import { SeededRng } from "../../src/util/rng.ts";
import { SCENE_GROUPS, SYNTHETIC_CLASSES } from "../../src/data/synthetic/classes.ts";
import { renderScene } from "../../src/data/synthetic/render.ts";
import { writeSyntheticVoc } from "../../src/data/synthetic/write.ts";
import { findTask, stepClasses } from "../../src/data/tasks.ts";
import { openVoc } from "../../src/data/voc.ts";
import { decodeImage, decodeLabelPng } from "../../src/data/image.ts";
import { tempDir } from "./fixtures.ts";

const counts = { train: 10, val: 4, test: 4 };

async function filesOf(root: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  const walk = async (dir: string, prefix: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(`${dir}/${e.name}`, `${prefix}${e.name}/`);
      else files.set(`${prefix}${e.name}`, await Deno.readFile(`${dir}/${e.name}`));
    }
  };
  await walk(root, "");
  return files;
}

Deno.test("synthetic: same seed gives byte-identical files; VOC layout with three lists", async () => {
  const a = await tempDir();
  const b = await tempDir();
  try {
    await Effect.runPromise(writeSyntheticVoc({ root: a.path, seed: 3, size: 32, counts }));
    await Effect.runPromise(writeSyntheticVoc({ root: b.path, seed: 3, size: 32, counts }));
    const fa = await filesOf(a.path);
    const fb = await filesOf(b.path);
    assertEquals([...fa.keys()].sort(), [...fb.keys()].sort());
    for (const [name, bytes] of fa) {
      assertEquals(Array.from(bytes), Array.from(fb.get(name)!), name);
    }
    assertEquals(fa.size, 2 * 18 + 3 + 1);
    for (const split of ["train", "val", "test"] as const) {
      const list = new TextDecoder().decode(fa.get(`ImageSets/Segmentation/${split}.txt`)).trim()
        .split("\n");
      assertEquals(list.length, counts[split]);
      for (const name of list) {
        const image = Effect.runSync(decodeImage(fa.get(`JPEGImages/${name}.jpg`)!, name));
        const label = Effect.runSync(
          decodeLabelPng(fa.get(`SegmentationClass/${name}.png`)!, name),
        );
        assertEquals([image.width, image.height, label.width, label.height], [32, 32, 32, 32]);
        assert(label.data.every((v) => v <= 20 || v === 255));
      }
    }
  } finally {
    await a.cleanup();
    await b.cleanup();
  }
});

Deno.test("synthetic: other seeds and the test stream give other images; counts do not shift images", () => {
  const pixels = (seed: number, stream: string, split: string, i: number) =>
    Array.from(
      renderScene(new SeededRng(seed, stream, split, i), { size: 32, voidBorder: true }).rgb,
    );
  assertEquals(pixels(0, "trainval", "train", 2), pixels(0, "trainval", "train", 2));
  assertNotEquals(pixels(0, "trainval", "train", 2), pixels(1, "trainval", "train", 2));
  assertNotEquals(pixels(0, "trainval", "train", 0), pixels(0, "test", "test", 0));
});

Deno.test("synthetic: classes share shapes, colours and textures with other classes", () => {
  for (const c of SYNTHETIC_CLASSES) {
    const sharesShape = SYNTHETIC_CLASSES.some((o) => o !== c && o.shape === c.shape);
    const sharesColour = SYNTHETIC_CLASSES.some((o) => o !== c && o.colour === c.colour);
    assert(sharesShape || sharesColour, `class ${c.index} is related to no other class`);
  }
  const signatures = new Set(SYNTHETIC_CLASSES.map((c) => `${c.shape}/${c.colour}/${c.texture}`));
  assertEquals(signatures.size, 20);
  assertEquals(
    SCENE_GROUPS.flat().sort((a, b) => a - b),
    Array.from({ length: 20 }, (_, i) => i + 1),
  );
});

Deno.test("synthetic: scenes have clutter, several objects and co-occurring earlier classes", () => {
  let multi = 0;
  let withLate = 0;
  let lateWithEarly = 0;
  const n = 300;
  for (let i = 0; i < n; i++) {
    const scene = renderScene(new SeededRng(0, "stats", i), { size: 48, voidBorder: true });
    const present = new Set(scene.labels);
    const objects = [...present].filter((l) => l > 0 && l < 255);
    if (objects.length >= 2) multi++;
    if (objects.some((l) => l >= 16)) {
      withLate++;
      if (objects.some((l) => l <= 15)) lateWithEarly++;
    }
    assert(present.has(0), "every scene has background");
  }
  assert(multi / n > 0.4, `only ${multi}/${n} scenes with several objects`);
  // Background shift: images of the 15-5 step-1 classes often contain step-0 classes.
  assert(
    lateWithEarly / withLate > 0.3,
    `only ${lateWithEarly}/${withLate} late-class images with early classes`,
  );
});

Deno.test("synthetic: the VOC reader, class sets and 15-5 filters work on the generated set", async () => {
  const dir = await tempDir();
  try {
    await Effect.runPromise(
      writeSyntheticVoc({
        root: dir.path,
        seed: 1,
        size: 24,
        counts: { train: 30, val: 2, test: 2 },
      }),
    );
    const dataset = await Effect.runPromise(openVoc({ root: dir.path, split: "train" }));
    assertEquals(dataset.samples.length, 30);
    const sets = await Effect.runPromise(computeClassSets(dataset));
    // Independently: decode every mask here and count images with a class in 16..20.
    let expected = 0;
    for (const s of dataset.samples) {
      const mask = Effect.runSync(decodeLabelPng(await Deno.readFile(s.label), s.label));
      if (mask.data.some((v) => v >= 16 && v <= 20)) expected++;
    }
    const kept = filterImages(
      sets.classSets,
      stepClasses(findTask("synthetic/15-5")!, 1),
      "overlapped",
    );
    assertEquals(kept.length, expected);
  } finally {
    await dir.cleanup();
  }
});
