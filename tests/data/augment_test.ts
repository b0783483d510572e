import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import fc from "fast-check";
import {
  augmentTrain,
  flipPair,
  IMAGENET_MEAN,
  IMAGENET_STD,
  normalizeInto,
  padPair,
  prepareEval,
  scalePair,
} from "../../src/data/augment.ts";
import { resizeBilinear, resizeNearest } from "../../src/data/resize.ts";
import { SeededRng } from "../../src/util/rng.ts";

const pairArb = fc.record({
  w: fc.integer({ min: 1, max: 23 }),
  h: fc.integer({ min: 1, max: 23 }),
  seed: fc.nat(),
}).map(
  ({ w, h, seed }) => {
    const rng = new SeededRng(seed);
    const image = Uint8Array.from({ length: w * h * 3 }, () => rng.int(0, 255));
    const label = Uint8Array.from({ length: w * h }, () => rng.pick([0, 3, 7, 255]));
    return {
      image: { width: w, height: h, data: image },
      label: { width: w, height: h, data: label },
    };
  },
);

const valuesOf = (a: Uint8Array) => new Set(a);

Deno.test("augment: training output has the crop size and only input labels or 255; same RNG same output", () => {
  fc.assert(
    fc.property(pairArb, fc.integer({ min: 1, max: 16 }), fc.nat(), (pair, crop, seed) => {
      const out = augmentTrain(pair, { kind: "train", cropSize: crop }, new SeededRng(seed));
      const again = augmentTrain(pair, { kind: "train", cropSize: crop }, new SeededRng(seed));
      if (
        out.image.width !== crop || out.label.height !== crop ||
        out.image.data.length !== crop * crop * 3
      ) return false;
      const allowed = valuesOf(pair.label.data);
      allowed.add(255);
      return out.label.data.every((v) => allowed.has(v)) &&
        out.image.data.every((v, i) => v === again.image.data[i]) &&
        out.label.data.every((v, i) => v === again.label.data[i]);
    }),
    { seed: 42, numRuns: 150 },
  );
});

Deno.test("augment: scale sizes, nearest labels never blend, bilinear keeps constants", () => {
  fc.assert(
    fc.property(pairArb, fc.double({ min: 0.5, max: 2, noNaN: true }), (pair, s) => {
      const out = scalePair(pair, s);
      const w = Math.max(1, Math.round(pair.image.width * s));
      const h = Math.max(1, Math.round(pair.image.height * s));
      const labels = valuesOf(pair.label.data);
      return out.image.width === w && out.label.height === h &&
        out.label.data.every((v) => labels.has(v));
    }),
    { seed: 42, numRuns: 150 },
  );
  const flat = { width: 5, height: 3, data: new Uint8Array(45).fill(77) };
  assert(resizeBilinear(flat, 11, 7).data.every((v) => v === 77));
  const same = { width: 4, height: 4, data: Uint8Array.from({ length: 16 }, (_, i) => i) };
  assertEquals(Array.from(resizeNearest(same, 4, 4).data), Array.from(same.data));
  // Doubling repeats each label twice in each direction.
  assertEquals(
    Array.from(resizeNearest({ width: 2, height: 1, data: Uint8Array.from([1, 2]) }, 4, 2).data),
    [1, 1, 2, 2, 1, 1, 2, 2],
  );
});

Deno.test("augment: padding fills labels with 255 and the image with the fill, keeping the content", () => {
  const pair = {
    image: { width: 2, height: 1, data: Uint8Array.from([1, 2, 3, 4, 5, 6]) },
    label: { width: 2, height: 1, data: Uint8Array.from([7, 8]) },
  };
  const out = padPair(pair, 4, [9, 9, 9]);
  assertEquals(Array.from(out.label.data), [
    255,
    255,
    255,
    255,
    255,
    7,
    8,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
    255,
  ]);
  assertEquals(Array.from(out.image.data.subarray(15, 21)), [1, 2, 3, 4, 5, 6]);
  assertEquals(Array.from(out.image.data.subarray(0, 3)), [9, 9, 9]);
});

Deno.test("augment: flipping twice is the identity; flipping mirrors rows", () => {
  fc.assert(
    fc.property(pairArb, (pair) => {
      const twice = flipPair(flipPair(pair));
      return twice.image.data.every((v, i) => v === pair.image.data[i]) &&
        twice.label.data.every((v, i) => v === pair.label.data[i]);
    }),
    { seed: 42, numRuns: 100 },
  );
  const row = {
    image: { width: 3, height: 1, data: Uint8Array.from([1, 1, 1, 2, 2, 2, 3, 3, 3]) },
    label: { width: 3, height: 1, data: Uint8Array.from([1, 2, 3]) },
  };
  assertEquals(Array.from(flipPair(row).label.data), [3, 2, 1]);
});

Deno.test("augment: evaluation resize and centre crop", () => {
  const label = Uint8Array.from({ length: 36 }, (_, i) => i);
  const pair = {
    image: { width: 6, height: 6, data: new Uint8Array(108) },
    label: { width: 6, height: 6, data: label },
  };
  const crop = prepareEval(pair, { kind: "eval", size: 2, mode: "centerCrop" });
  assertEquals(Array.from(crop.label.data), [14, 15, 20, 21]);
  const resized = prepareEval(pair, { kind: "eval", size: 3, mode: "resize" });
  // Pixel centres: output x samples input floor((x + 0.5) * 2) = 1, 3, 5.
  assertEquals(Array.from(resized.label.data), [7, 9, 11, 19, 21, 23, 31, 33, 35]);
});

Deno.test("augment: full evaluation keeps the pair; crop_val scales the shorter side, crops the centre", () => {
  const pairOf = (width: number, height: number) => ({
    image: { width, height, data: new Uint8Array(width * height * 3) },
    label: { width, height, data: Uint8Array.from({ length: width * height }, (_, i) => i) },
  });
  const full = pairOf(7, 5);
  assertEquals(prepareEval(full, { kind: "eval", mode: "full" }), full);
  // 8x4 -> shorter side 2: 4x2 (columns 1, 3, 5, 7; rows 1, 3), centre at x 1.
  const wide = prepareEval(pairOf(8, 4), { kind: "eval", size: 2, mode: "resizeCenterCrop" });
  assertEquals([wide.label.width, wide.label.height], [2, 2]);
  assertEquals(Array.from(wide.label.data), [11, 13, 27, 29]);
  // 7x4 -> 3x2 (int(2 * 7 / 4) = 3); the centre's left edge round(0.5) = 0, as Python rounds.
  const odd = prepareEval(pairOf(7, 4), { kind: "eval", size: 2, mode: "resizeCenterCrop" });
  assertEquals(Array.from(odd.label.data), [8, 10, 22, 24]);
});

Deno.test("augment: ImageNet normalisation", () => {
  const out = new Float32Array(7);
  normalizeInto(
    { width: 2, height: 1, data: Uint8Array.from([0, 128, 255, 255, 255, 255]) },
    out,
    1,
  );
  const expect = [0, 128, 255, 255, 255, 255].map((v, i) =>
    (v / 255 - IMAGENET_MEAN[i % 3]) / IMAGENET_STD[i % 3]
  );
  for (let i = 0; i < 6; i++) assert(Math.abs(out[i + 1] - expect[i]) < 1e-5);
  assertEquals(out[0], 0);
});
