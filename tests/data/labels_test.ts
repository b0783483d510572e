import { deepStrictEqual as assertEquals } from "node:assert/strict";
import fc from "fast-check";
import { applyLut, composeLuts, evalLut, trainTargetLut } from "../../src/data/labels.ts";
import { findTask, stepClasses, TASKS } from "../../src/data/tasks.ts";

Deno.test("labels: VOC 15-5 step 1 targets and evaluation labels", () => {
  const task = findTask("voc/15-5")!;
  const train = trainTargetLut(stepClasses(task, 1));
  assertEquals(Array.from(applyLut(Uint8Array.from([0, 1, 15, 16, 20, 255]), train)), [
    0,
    0,
    0,
    16,
    20,
    255,
  ]);
  const eval0 = evalLut(stepClasses(task, 0));
  assertEquals(Array.from(applyLut(Uint8Array.from([0, 1, 15, 16, 20, 255]), eval0)), [
    0,
    1,
    15,
    255,
    255,
    255,
  ]);
  const ade = evalLut(stepClasses(findTask("ade20k/100-50")!, 0), true);
  assertEquals(Array.from(applyLut(Uint8Array.from([0, 1, 100, 101]), ade)), [255, 1, 100, 255]);
});

Deno.test("labels: targets keep current classes, zero old and future, keep 255", () => {
  const tasks = [...TASKS.values()].filter((t) => t.kind === "class");
  fc.assert(
    fc.property(fc.constantFrom(...tasks), fc.nat(), (task, seed) => {
      const t = seed % task.steps.length;
      const step = stepClasses(task, t);
      const lut = trainTargetLut(step);
      const current = new Set(step.current);
      const seen = new Set([...step.old, ...step.current]);
      const last = task.dataset === "ade20k" ? 150 : 20;
      const evaluation = evalLut(step);
      for (let v = 0; v <= last; v++) {
        if (lut[v] !== (current.has(v) ? v : 0)) return false;
        if (evaluation[v] !== (seen.has(v) ? v : 255)) return false;
      }
      return lut[255] === 255 && evaluation[255] === 255;
    }),
    { seed: 42, numRuns: 200 },
  );
});

Deno.test("labels: composing LUTs equals applying them in turn", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 256, maxLength: 256 }),
      fc.uint8Array({ minLength: 256, maxLength: 256 }),
      fc.uint8Array({ maxLength: 64 }),
      (a, b, labels) => {
        const once = applyLut(labels, composeLuts(a, b));
        const twice = applyLut(applyLut(labels, a), b);
        return once.every((v, i) => v === twice[i]);
      },
    ),
    { seed: 42, numRuns: 100 },
  );
});
