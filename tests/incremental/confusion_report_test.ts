import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import fc from "fast-check";
import {
  classConfusions,
  confusionCsv,
  confusionLines,
} from "../../src/incremental/confusion_report.ts";

// Rows = ground truth, columns = prediction; K = 4, class 3 unseen.
// Class 0: 6 right, 3 as 2, 1 as 1. Class 1: 5 right, 5 as 2.
// Class 2: no ground truth. Class 3 (unseen): 2 pixels predicted as 0.
// deno-fmt-ignore
const MATRIX = [
  6, 1, 3, 0,
  0, 5, 5, 0,
  0, 0, 0, 0,
  2, 0, 0, 0,
];

Deno.test("confusionCsv: the seen classes' rows and columns, header first", () => {
  assertEquals(confusionCsv(MATRIX, 4, [0, 1, 2]), "label,0,1,2\n0,6,1,3\n1,0,5,5\n2,0,0,0\n");
  throws(() => confusionCsv([1, 2, 3], 2, [0, 1]), /expected 4/);
});

Deno.test("classConfusions: recall and the largest other shares, classes without pixels skipped", () => {
  assertEquals(classConfusions(MATRIX, 4, [0, 1, 2], 1), [
    { label: 0, pixels: 10, correct: 0.6, taken: [{ as: 2, share: 0.3 }] },
    { label: 1, pixels: 10, correct: 0.5, taken: [{ as: 2, share: 0.5 }] },
  ]);
  // Count 3 lists every non-zero share, largest first; zero cells never appear.
  assertEquals(classConfusions(MATRIX, 4, [0], 3)[0].taken, [
    { as: 2, share: 0.3 },
    { as: 1, share: 0.1 },
  ]);
  // Only the classes in `seen` get a row (3 was left out above); asked for, 3's row counts its pixels.
  assertEquals(classConfusions(MATRIX, 4, [3], 2), [
    { label: 3, pixels: 2, correct: 0, taken: [{ as: 0, share: 1 }] },
  ]);
  assertEquals(classConfusions(MATRIX, 4, [0, 1], 0).map((c) => c.taken), [[], []]);
  // Ties go to the lower class.
  assertEquals(classConfusions([0, 2, 2, 0, 0, 0, 0, 0, 0], 3, [0], 2)[0].taken, [
    { as: 1, share: 0.5 },
    { as: 2, share: 0.5 },
  ]);
});

Deno.test("classConfusions: a row's recall and all its taken shares add up to 1", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }).chain((k) =>
        fc.array(fc.nat({ max: 1000 }), { minLength: k * k, maxLength: k * k }).map((m) => ({
          k,
          m,
        }))
      ),
      ({ k, m }) => {
        const all = Array.from({ length: k }, (_, c) => c);
        for (const row of classConfusions(m, k, all, k)) {
          const total = row.correct + row.taken.reduce((a, t) => a + t.share, 0);
          if (Math.abs(total - 1) > 1e-12) return false;
          const shares = row.taken.map((t) => t.share);
          if (shares.some((s, i) => i > 0 && s > shares[i - 1])) return false;
          if (row.pixels !== m.slice(row.label * k, row.label * k + k).reduce((a, b) => a + b, 0)) {
            return false;
          }
        }
        return true;
      },
    ),
    { seed: 16, numRuns: 200 },
  );
});

Deno.test("confusionLines: one line per class, in percent", () => {
  assertEquals(confusionLines(classConfusions(MATRIX, 4, [0, 1], 2)), [
    "class 0: 60.0 % right; as 2 30.0 %, as 1 10.0 %",
    "class 1: 50.0 % right; as 2 50.0 %",
  ]);
  assertEquals(confusionLines([{ label: 5, pixels: 3, correct: 1, taken: [] }]), [
    "class 5: 100.0 % right",
  ]);
});
