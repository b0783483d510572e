import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Effect } from "effect";
import { openCityscapes } from "../../src/data/cityscapes.ts";
import {
  Mt19937,
  numpyShuffle,
  RCIL_CITY_ORDER,
  rcilDomainSubset,
  rcilListOrder,
} from "../../src/data/cityscapes_domain.ts";
import { computeClassSets } from "../../src/data/classsets.ts";
import type { SampleRef } from "../../src/data/dataset.ts";
import { readSample } from "../../src/data/sample.ts";
import { writeSyntheticCityscapes } from "../../src/data/synthetic/cityscapes.ts";
import { type DomainTask, findTask } from "../../src/data/tasks.ts";
import { tempDir } from "./fixtures.ts";

// Expected values below come from NumPy 2.4 (`np.random.RandomState(1)`), the generator
// RCIL's `dataset/cityscapes_domain.py` shuffles with.

Deno.test("cityscapes domain: MT19937 and shuffle equal NumPy's RandomState(1)", () => {
  assertEquals(new Mt19937(5489).nextUint32(), 3499211612); // the reference's first output
  const r = (n: number) => Array.from({ length: n }, (_, i) => i);
  assertEquals(numpyShuffle(r(0), 1), []);
  assertEquals(numpyShuffle(r(2), 1), [0, 1]);
  assertEquals(numpyShuffle(r(5), 1), [2, 1, 4, 0, 3]);
  assertEquals(numpyShuffle(r(10), 1), [2, 9, 6, 4, 0, 3, 1, 7, 8, 5]);
  assertEquals(
    numpyShuffle(r(37), 1),
    [
      2,
      29,
      3,
      22,
      25,
      27,
      21,
      35,
      19,
      24,
      30,
      17,
      28,
      34,
      31,
      26,
      4,
      14,
      10,
      33,
      23,
      32,
      20,
      18,
      6,
      13,
      7,
      36,
      1,
      16,
      0,
      15,
      5,
      11,
      9,
      8,
      12,
    ],
  );
  const big = numpyShuffle(r(300), 1);
  assertEquals(big.slice(0, 12), [189, 123, 185, 213, 106, 127, 176, 73, 275, 242, 266, 147]);
  assertEquals(big.slice(-5), [203, 255, 72, 235, 37]);
});

Deno.test("cityscapes domain: task steps are RCIL's city_to_id lists", () => {
  const steps = (name: string) => (findTask(name) as DomainTask).steps;
  const ids = (name: string) => steps(name).map((s) => s.map((c) => RCIL_CITY_ORDER.indexOf(c)));
  const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
  // RCIL tasks.py: 11-5 = {0: 0..10, 1: 11..15, 2: 16..20}; 11-1; 1-1 = {i: [i]}.
  assertEquals(ids("cityscapes/11-5"), [range(0, 11), range(11, 16), range(16, 21)]);
  assertEquals(ids("cityscapes/11-1"), [range(0, 11), ...range(11, 21).map((i) => [i])]);
  assertEquals(ids("cityscapes/1-1"), range(0, 21).map((i) => [i]));
  assertEquals(RCIL_CITY_ORDER.slice(0, 3), ["aachen", "bremen", "darmstadt"]);
  assertEquals(RCIL_CITY_ORDER.slice(16), ["ulm", "zurich", "frankfurt", "lindau", "munster"]);
});

/** A fake list of 3..6 images per city, as the reader returns it. */
const fakeSamples = (): SampleRef[] =>
  RCIL_CITY_ORDER.flatMap((city, i) =>
    Array.from({ length: 3 + (i % 4) }, (_, j) => {
      const split = ["frankfurt", "lindau", "munster"].includes(city) ? "val" : "train";
      const name = `${city}_000000_${String(j).padStart(6, "0")}`;
      return {
        name,
        image: `/r/leftImg8bit/${split}/${city}/${name}_leftImg8bit.png`,
        label: `/r/gtFine/${split}/${city}/${name}_gtFine_labelIds.png`,
        domain: city,
      };
    })
  ).reverse();

Deno.test("cityscapes domain: train and test subsets equal RCIL's (NumPy reference)", () => {
  const ordered = rcilListOrder(fakeSamples());
  assertEquals(ordered.length, 93);
  const names = (cities: readonly string[], part: "train" | "test") =>
    rcilDomainSubset(ordered, cities, part).map((s) => s.name);
  const task = findTask("cityscapes/11-5") as DomainTask;
  assertEquals(names(task.steps[0], "train").slice(0, 6), [
    "krefeld_000000_000003",
    "erfurt_000000_000002",
    "strasbourg_000000_000004",
    "strasbourg_000000_000002",
    "aachen_000000_000002",
    "bochum_000000_000000",
  ]);
  assertEquals(names([...task.steps[0], ...task.steps[1]], "test"), [
    "cologne_000000_000000",
    "stuttgart_000000_000004",
    "darmstadt_000000_000002",
    "weimar_000000_000002",
    "darmstadt_000000_000004",
    "monchengladbach_000000_000003",
    "dusseldorf_000000_000004",
    "bochum_000000_000003",
    "aachen_000000_000001",
    "darmstadt_000000_000000",
    "tubingen_000000_000001",
    "bochum_000000_000002",
    "bremen_000000_000002",
    "cologne_000000_000001",
    "hanover_000000_000001",
  ]);
  assertEquals(names(task.steps[2], "train"), [
    "lindau_000000_000003",
    "frankfurt_000000_000003",
    "zurich_000000_000000",
    "munster_000000_000000",
    "lindau_000000_000005",
    "lindau_000000_000002",
    "lindau_000000_000004",
    "zurich_000000_000001",
    "ulm_000000_000002",
    "zurich_000000_000003",
    "frankfurt_000000_000000",
    "ulm_000000_000001",
    "lindau_000000_000001",
    "ulm_000000_000000",
    "munster_000000_000002",
    "munster_000000_000001",
  ]);
});

Deno.test("cityscapes domain: the reader reads the synthetic Cityscapes-layout set", async () => {
  const dir = await tempDir();
  try {
    const root = dir.path;
    const summary = await Effect.runPromise(
      writeSyntheticCityscapes({ root, width: 32, imagesPerCity: 2 }),
    );
    assertEquals([summary.width, summary.height], [32, 16]);
    const all = await Effect.runPromise(openCityscapes({ root, split: "trainval" }));
    assertEquals(all.samples.length, 42);
    assertEquals(new Set(all.samples.map((s) => s.domain)).size, 21);
    const val = await Effect.runPromise(openCityscapes({ root, split: "val" }));
    assertEquals([...new Set(val.samples.map((s) => s.domain))], [
      "frankfurt",
      "lindau",
      "munster",
    ]);
    const sets = await Effect.runPromise(computeClassSets(all, { validateImages: true }));
    const seen = new Set(sets.classSets.flat());
    // Every trainId appears somewhere; labels are trainIds (0..18), never raw labelIds.
    assertEquals([...seen].filter((c) => c > 18 && c !== 255), []);
    assertEquals(seen.size >= 15, true);
    const sample = await Effect.runPromise(readSample(all.samples[0], all.info));
    assertEquals([sample.image.width, sample.image.height], [32, 16]);
    assertEquals(Array.from(sample.label.data).every((v) => v <= 18 || v === 255), true);
    // Same seed, same bytes.
    const again = await tempDir();
    try {
      await Effect.runPromise(
        writeSyntheticCityscapes({ root: again.path, width: 32, imagesPerCity: 2 }),
      );
      const file = "leftImg8bit/train/ulm/ulm_000000_000001_leftImg8bit.png";
      assertEquals(
        await Deno.readFile(`${root}/${file}`),
        await Deno.readFile(`${again.path}/${file}`),
      );
    } finally {
      await again.cleanup();
    }
  } finally {
    await dir.cleanup();
  }
});
