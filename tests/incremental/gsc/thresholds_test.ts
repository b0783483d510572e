import fc from "fast-check";
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { quantilePortion, quantileThresholds } from "../../../src/incremental/gsc/thresholds.ts";
import { medianThresholds } from "../../../src/incremental/losses/mod.ts";

const histograms = fc.record({
  classes: fc.integer({ min: 1, max: 5 }),
  bins: fc.constantFrom(10, 100),
}).chain((c) =>
  fc.record({
    c: fc.constant(c),
    counts: fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40 })), {
      minLength: c.classes * c.bins,
      maxLength: c.classes * c.bins,
    }),
  })
);

Deno.test("quantile thresholds: portion 0.5 is PLOP's median, bit for bit", () => {
  fc.assert(
    fc.property(histograms, ({ c, counts }) => {
      assertEquals(
        quantileThresholds(counts, c.bins, c.classes, 0.5),
        medianThresholds(counts, c.bins, c.classes),
      );
    }),
    { seed: 42, numRuns: 100 },
  );
});

Deno.test("quantile thresholds: FISS's schedule 0.2, +0.1 an epoch, up to 0.8", () => {
  const portions = [0, 1, 2, 5, 6, 9].map((e) => Number(quantilePortion(e).toFixed(12)));
  assertEquals(portions, [0.2, 0.3, 0.4, 0.7, 0.8, 0.8]);
});

Deno.test("quantile thresholds: a class's entropies all in one bin move with the portion", () => {
  // 40 pixels in bin 7 of 10 (PLOP's walk stops there): threshold 0.7 + portion * 40 / 40 / 10,
  // less the running sum of bin indices before it (0 + 1 + ... + 6 = 21) over the count.
  const counts = new Array(10).fill(0);
  counts[7] = 40;
  const at = (portion: number) => quantileThresholds(counts, 10, 1, portion)[0];
  const want = (portion: number) => Math.fround(0.7 + ((40 * portion - 21) / 40) * 0.1);
  assertEquals([at(0.6), at(0.8)], [want(0.6), want(0.8)]);
  if (!(at(0.8) > at(0.6))) throw new Error("the threshold does not rise with the portion");
});
