import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Effect } from "effect";
import { CITYSCAPES_CITIES } from "../../src/data/classes.ts";
import { RCIL_CITY_ORDER } from "../../src/data/cityscapes_domain.ts";
import {
  findTask,
  getTask,
  seenClasses,
  stepClasses,
  taskNames,
  TASKS,
} from "../../src/data/tasks.ts";
import { failureOf } from "./fixtures.ts";

const r = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const steps = (name: string) => findTask(name)!.steps;

Deno.test("tasks: VOC splits match the protocol lists", () => {
  assertEquals(steps("voc/19-1"), [r(0, 19), [20]]);
  assertEquals(steps("voc/15-5"), [r(0, 15), r(16, 20)]);
  assertEquals(steps("voc/15-1"), [r(0, 15), [16], [17], [18], [19], [20]]);
  assertEquals(steps("voc/10-1"), [r(0, 10), ...r(11, 20).map((c) => [c])]);
  assertEquals(steps("voc/5-3"), [r(0, 5), r(6, 8), r(9, 11), r(12, 14), r(15, 17), r(18, 20)]);
  assertEquals(steps("voc/2-2"), [
    r(0, 2),
    [3, 4],
    [5, 6],
    [7, 8],
    [9, 10],
    [11, 12],
    [13, 14],
    [15, 16],
    [17, 18],
    [19, 20],
  ]);
  assertEquals(steps("voc/2-1"), [r(0, 2), ...r(3, 20).map((c) => [c])]);
  assertEquals(steps("voc/15-5s"), steps("voc/15-1"));
  for (const name of ["19-1", "15-5", "15-1", "10-1", "5-3", "2-2", "2-1"]) {
    assertEquals(steps(`synthetic/${name}`), steps(`voc/${name}`));
  }
});

Deno.test("tasks: ADE20K splits match the protocol lists", () => {
  assertEquals(steps("ade20k/100-50"), [r(0, 100), r(101, 150)]);
  assertEquals(steps("ade20k/50-50"), [r(0, 50), r(51, 100), r(101, 150)]);
  const by10 = steps("ade20k/100-10");
  assertEquals(by10.length, 6);
  assertEquals(by10[5], r(141, 150));
  const by5 = steps("ade20k/100-5");
  assertEquals(by5.length, 11);
  assertEquals(by5[1], r(101, 105));
  assertEquals(by5[10], r(146, 150));
});

Deno.test("tasks: every class task covers its classes exactly once", () => {
  for (const task of TASKS.values()) {
    if (task.kind !== "class") continue;
    const all = (task.steps as number[][]).flat();
    const last = task.dataset === "ade20k" ? 150 : 20;
    assertEquals(all, r(0, last), task.name);
  }
});

Deno.test("tasks: Cityscapes domain tasks split the 21 cities in the fixed order", () => {
  // The same 21 cities as the reader's list, in RCIL's city_to_id order.
  assertEquals([...RCIL_CITY_ORDER].sort(), [...CITYSCAPES_CITIES]);
  const sizes = (name: string) => steps(name).map((s) => s.length);
  assertEquals(sizes("cityscapes/11-5"), [11, 5, 5]);
  assertEquals(sizes("cityscapes/11-1"), [11, ...Array(10).fill(1)]);
  assertEquals(sizes("cityscapes/1-1"), Array(21).fill(1));
  assertEquals(steps("cityscapes/11-5").flat(), [...RCIL_CITY_ORDER]);
  const task = findTask("cityscapes/11-1")!;
  assertEquals(stepClasses(task, 3).current, r(0, 18));
});

Deno.test("tasks: step classes split into current and old", () => {
  const task = findTask("voc/15-1")!;
  assertEquals(stepClasses(task, 0), { current: r(0, 15), old: [] });
  assertEquals(stepClasses(task, 2), { current: [17], old: [...r(0, 15), 16] });
  assertEquals(seenClasses(task, 2), r(0, 17));
});

Deno.test("tasks: unknown names fail with the list of valid names", async () => {
  const error = await failureOf(getTask("voc/15-4"));
  assertEquals(error._tag, "UnknownTaskError");
  assertEquals(error.valid, taskNames());
  assert(error.message.includes("voc/15-1") && error.message.includes("ade20k/100-50"));
  assertEquals((await Effect.runPromise(getTask("voc/15-5s"))).name, "voc/15-1");
});
