/**
 * The pretraining corpus: classes made only of shapes, colours and textures
 * that no benchmark class uses; every new shape and texture draws something;
 * the corpus's scenes hold its own classes; the benchmark's images stay
 * exactly what they were (a pinned hash).
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import fc from "fast-check";
import { Effect } from "effect";
import { COLOURS, SYNTHETIC_CLASSES } from "../../src/data/synthetic/classes.ts";
import { PRETRAIN_CLASS_SET, PRETRAIN_CLASSES } from "../../src/data/synthetic/pretrain_classes.ts";
import { renderScene } from "../../src/data/synthetic/render.ts";
import { insideShape } from "../../src/data/synthetic/shapes.ts";
import { textureColour } from "../../src/data/synthetic/textures.ts";
import { writeSyntheticVoc } from "../../src/data/synthetic/write.ts";
import { SeededRng } from "../../src/util/rng.ts";
import { tempDir } from "./fixtures.ts";

const fnv = (bytes: Uint8Array, start = 0x811c9dc5): number => {
  let h = start;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
};

Deno.test("pretrain corpus: no shape, colour or texture of a benchmark class", () => {
  const used = (key: "shape" | "colour" | "texture") =>
    new Set(SYNTHETIC_CLASSES.map((c) => c[key]));
  for (const c of PRETRAIN_CLASSES) {
    for (const key of ["shape", "colour", "texture"] as const) {
      assert(!used(key).has(c[key]), `pretrain class ${c.index} reuses the ${key} ${c[key]}`);
    }
    assert(!(c.colour in COLOURS), `pretrain colour ${c.colour} is a benchmark colour`);
    assert(c.colour in PRETRAIN_CLASS_SET.colours, `colour ${c.colour} has no RGB`);
  }
  const signatures = new Set(PRETRAIN_CLASSES.map((c) => `${c.shape}/${c.colour}/${c.texture}`));
  assertEquals(signatures.size, 20);
  assertEquals(PRETRAIN_CLASSES.map((c) => c.index), Array.from({ length: 20 }, (_, i) => i + 1));
});

Deno.test("pretrain corpus: every new shape covers part of the unit square and stays inside it", () => {
  const steps = 81;
  for (const shape of new Set(PRETRAIN_CLASSES.map((c) => c.shape))) {
    let inside = 0;
    for (let i = 0; i < steps; i++) {
      for (let j = 0; j < steps; j++) {
        const u = -1.2 + (2.4 * i) / (steps - 1);
        const v = -1.2 + (2.4 * j) / (steps - 1);
        if (!insideShape(shape, u, v)) continue;
        inside++;
        assert(Math.abs(u) <= 1 && Math.abs(v) <= 1, `${shape} reaches (${u}, ${v})`);
      }
    }
    const area = (inside * 2.4 * 2.4) / (steps * steps);
    assert(area > 0.6 && area < 3.6, `${shape} covers ${area.toFixed(2)} of the square`);
  }
});

Deno.test("pretrain corpus: new textures give colours in 0..255 that vary over the object", () => {
  for (const kind of ["waves", "grid", "rings"] as const) {
    fc.assert(
      fc.property(
        fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })),
        fc.double({ min: 2, max: 6, noNaN: true }),
        (rg, frequency) => {
          const base = [rg[0], rg[1], 128] as const;
          const seen = new Set<string>();
          const out = [0, 0, 0];
          for (let i = -8; i <= 8; i++) {
            textureColour(base, { kind, frequency, angle: 0.3 }, i / 8, 0.37 * i / 8, out);
            assert(out.every((x) => x >= 0 && x <= 255), `${kind}: ${out}`);
            seen.add(out.map((x) => x.toFixed(1)).join(","));
          }
          assert(seen.size > 1, `${kind} is flat`);
        },
      ),
      { seed: 7, numRuns: 40 },
    );
  }
});

Deno.test("pretrain corpus: scenes hold the corpus's classes; the benchmark's scenes are unchanged", () => {
  const present = new Set<number>();
  for (let i = 0; i < 120; i++) {
    const scene = renderScene(new SeededRng(5, "pretrain", i), {
      size: 48,
      voidBorder: true,
      classSet: PRETRAIN_CLASS_SET,
    });
    for (const l of scene.labels) present.add(l);
  }
  for (let c = 0; c <= 20; c++) assert(present.has(c), `class ${c} never drawn`);
  // Pinned: the benchmark generator's bytes must not move when the corpus changes.
  let h = 0x811c9dc5;
  for (let i = 0; i < 4; i++) {
    const scene = renderScene(new SeededRng(0, "trainval", "train", i), {
      size: 32,
      voidBorder: true,
    });
    h = fnv(scene.labels, fnv(scene.rgb, h));
  }
  assertEquals(h, BENCHMARK_HASH);
});

Deno.test("pretrain corpus: written in the VOC layout, synthetic.json names the class set", async () => {
  const dir = await tempDir();
  try {
    await Effect.runPromise(writeSyntheticVoc({
      root: dir.path,
      seed: 2,
      size: 32,
      classSet: "pretrain",
      counts: { train: 3, val: 1, test: 0 },
    }));
    const meta = JSON.parse(await Deno.readTextFile(`${dir.path}/synthetic.json`));
    assertEquals(meta.classSet, "pretrain");
    assertEquals(meta.classes[0].shape, PRETRAIN_CLASSES[0].shape);
  } finally {
    await dir.cleanup();
  }
});

/** FNV-1a of four 32-pixel benchmark scenes, computed before the corpus existed. */
const BENCHMARK_HASH = 1786495251;
