/**
 * The synthetic Cityscapes set's palette drift: the hue rotation is a
 * rotation about the grey axis (orthogonal, greys fixed, angles add, 120
 * degrees permutes the channels), the drift turns the hue linearly along
 * RCIL's city order, and it changes colours only: every label map and the
 * first city's images are the same bytes as without drift.
 */
import {
  deepStrictEqual as assertEquals,
  notDeepStrictEqual as notEqual,
  ok as assert,
} from "node:assert/strict";
import fc from "fast-check";
import { Effect } from "effect";
import { RCIL_CITY_ORDER } from "../../src/data/cityscapes_domain.ts";
import { writeSyntheticCityscapes } from "../../src/data/synthetic/cityscapes.ts";
import { driftHue, hueRotation } from "../../src/data/synthetic/street.ts";
import { tempDir } from "./fixtures.ts";

const apply = (m: readonly number[], v: readonly number[]) =>
  [0, 1, 2].map((k) => m[3 * k] * v[0] + m[3 * k + 1] * v[1] + m[3 * k + 2] * v[2]);

const close = (a: readonly number[], b: readonly number[], tolerance = 1e-9) =>
  a.every((x, i) => Math.abs(x - b[i]) <= tolerance);

const angle = fc.double({ min: -720, max: 720, noNaN: true });
const colour = fc.tuple(
  fc.double({ min: -50, max: 300, noNaN: true }),
  fc.double({ min: -50, max: 300, noNaN: true }),
  fc.double({ min: -50, max: 300, noNaN: true }),
);

Deno.test("hue rotation: orthogonal, greys fixed, angles add", () => {
  fc.assert(
    fc.property(angle, angle, colour, fc.double({ min: -50, max: 300 }), (a, b, v, g) => {
      const m = hueRotation(a);
      const norm = (x: readonly number[]) => Math.hypot(...x);
      assert(Math.abs(norm(apply(m, v)) - norm(v)) <= 1e-9 * (1 + norm(v)));
      assert(close(apply(m, [g, g, g]), [g, g, g], 1e-9 * (1 + Math.abs(g))));
      assert(close(apply(hueRotation(b), apply(m, v)), apply(hueRotation(a + b), v), 1e-8 * 300));
    }),
    { seed: 17, numRuns: 200 },
  );
});

Deno.test("hue rotation: 0 is the identity, 120 degrees turns red into green", () => {
  assert(close(hueRotation(0), [1, 0, 0, 0, 1, 0, 0, 0, 1], 1e-15));
  assert(close(apply(hueRotation(120), [200, 10, 30]), [30, 200, 10], 1e-9));
  assert(close(apply(hueRotation(240), [200, 10, 30]), [10, 30, 200], 1e-9));
});

Deno.test("drift: the hue turns linearly from 0 at the first city to the drift at the last", () => {
  assertEquals(driftHue(180, 0, 21), 0);
  assertEquals(driftHue(180, 20, 21), 180);
  assertEquals(driftHue(180, 10, 21), 90);
  assertEquals(driftHue(180, 0, 1), 0);
});

Deno.test("drift: colours change, labels and the first city do not", async () => {
  const [plain, drifted] = [await tempDir(), await tempDir()];
  try {
    const write = (root: string, drift?: number) =>
      Effect.runPromise(writeSyntheticCityscapes({ root, width: 32, imagesPerCity: 1, drift }));
    await write(plain.path);
    const summary = await write(drifted.path, 180);
    assertEquals(summary.drift, 180);
    const meta = JSON.parse(await Deno.readTextFile(`${drifted.path}/synthetic.json`));
    const [first, last] = [RCIL_CITY_ORDER[0], RCIL_CITY_ORDER[RCIL_CITY_ORDER.length - 1]];
    assertEquals(meta.styles[first].hue, undefined);
    assertEquals(meta.styles[last].hue, 180);
    const split = (city: string) =>
      ["frankfurt", "lindau", "munster"].includes(city) ? "val" : "train";
    const read = (root: string, city: string, kind: "leftImg8bit" | "gtFine_labelIds") =>
      Deno.readFile(
        `${root}/${kind === "leftImg8bit" ? "leftImg8bit" : "gtFine"}/${split(city)}/${city}/` +
          `${city}_000000_000000_${kind}.png`,
      );
    for (const city of RCIL_CITY_ORDER) {
      assertEquals(
        await read(drifted.path, city, "gtFine_labelIds"),
        await read(plain.path, city, "gtFine_labelIds"),
      );
    }
    assertEquals(
      await read(drifted.path, first, "leftImg8bit"),
      await read(plain.path, first, "leftImg8bit"),
    );
    notEqual(
      await read(drifted.path, last, "leftImg8bit"),
      await read(plain.path, last, "leftImg8bit"),
    );
  } finally {
    await plain.cleanup();
    await drifted.cleanup();
  }
});
