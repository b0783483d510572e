import { deepStrictEqual as assertEquals } from "node:assert/strict";
import fc from "fast-check";
import { filterImages, keepImage } from "../../src/data/filter.ts";
import { findTask, stepClasses, TASKS } from "../../src/data/tasks.ts";

/**
 * The filter for contiguous class ranges, stated differently from the code:
 * step t learns classes lo..hi (lo = 1 at step 0, 0 being background); an
 * image is kept (overlapped) if some label is in lo..hi, and (disjoint) if
 * moreover no label except 255 is above hi.
 */
function expected(labels: readonly number[], lo: number, hi: number, disjoint: boolean): boolean {
  const hasCurrent = labels.some((l) => l >= Math.max(lo, 1) && l <= hi);
  if (!hasCurrent) return false;
  return !disjoint || labels.every((l) => l === 255 || l <= hi);
}

Deno.test("filter: hand-made class sets of VOC 15-5 step 1", () => {
  const step = stepClasses(findTask("voc/15-5")!, 1);
  const sets = [[0, 16], [0, 3, 16, 255], [0, 3], [0, 255], [0, 17, 20], [0, 5, 18, 255], [0]];
  assertEquals(filterImages(sets, step, "overlapped"), [0, 1, 4, 5]);
  // Disjoint keeps the same here: no class is in the future of the last step.
  assertEquals(filterImages(sets, step, "disjoint"), [0, 1, 4, 5]);
  const first = stepClasses(findTask("voc/15-5")!, 0);
  // Step 0: an image with a future class (16..20) is dropped only when disjoint; background-only always.
  assertEquals(filterImages(sets, first, "overlapped"), [1, 2, 5]);
  assertEquals(filterImages(sets, first, "disjoint"), [2]);
});

Deno.test("filter: matches the range formulation on random class sets of every class task", () => {
  const classTasks = [...TASKS.values()].filter((t) => t.kind === "class");
  fc.assert(
    fc.property(
      fc.constantFrom(...classTasks),
      fc.nat(),
      fc.array(
        fc.uniqueArray(fc.oneof(fc.integer({ min: 0, max: 150 }), fc.constant(255)), {
          maxLength: 6,
        }),
        {
          maxLength: 30,
        },
      ),
      fc.boolean(),
      (task, stepSeed, rawSets, disjoint) => {
        const last = task.dataset === "ade20k" ? 150 : 20;
        const sets = rawSets.map((s) =>
          s.filter((l) => l === 255 || l <= last).sort((a, b) => a - b)
        );
        const t = stepSeed % task.steps.length;
        const current = task.steps[t] as number[];
        const lo = current[0];
        const hi = current[current.length - 1];
        const step = stepClasses(task, t);
        for (const labels of sets) {
          if (
            keepImage(labels, step, disjoint ? "disjoint" : "overlapped") !==
              expected(labels, lo, hi, disjoint)
          ) {
            return false;
          }
        }
        return true;
      },
    ),
    { seed: 42, numRuns: 300 },
  );
});
