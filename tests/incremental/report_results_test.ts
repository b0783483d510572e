/**
 * The results table as data: a run's record from its step metrics (percent,
 * `new` null at step 0, a joint run's one step split old/new), the merge by
 * task/setting/row/seed, the json round trip, and the markdown rendered from
 * the records: mean ± std over seeds, Joint's row first, missing seeds and
 * rows not run, large-test columns, the notes appended.
 */
import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import {
  meanStdCell,
  mergeRuns,
  parseResults,
  resplitJointRecord,
  type ResultRun,
  resultsJson,
  resultsMarkdown,
  runRecord,
} from "../../src/incremental/report/mod.ts";
import type { StepMetrics } from "../../src/incremental/types.ts";

/** A 4-class task's step metrics (fractions). */
const metrics = (
  step: number,
  miou: [number | null, number | null, number | null],
  iou: (number | null)[],
): StepMetrics => ({
  step,
  seenClasses: [0, 1, 2, 3].slice(0, step + 2),
  oldClasses: [0, 1],
  newClasses: [2, 3].slice(0, step),
  iou,
  miouOld: miou[0],
  miouNew: miou[1],
  miouAll: miou[2],
  pixelAccuracy: 0.9,
  images: 10,
});

const ROWS = ["Joint", "FT", "MiB"];

/** A record with the given last step's old/new/all and avg (percent). */
const run = (
  row: string,
  seed: number,
  last: [number, number | null, number],
  avg: number,
  extra: Partial<ResultRun> = {},
): ResultRun => ({
  task: "15-1",
  setting: "overlap",
  row,
  seed,
  steps: [{ step: 0, old: 50, new: null, all: 50 }, {
    step: 1,
    old: last[0],
    new: last[1],
    all: last[2],
  }],
  avg,
  perClass: [90, 10, null, 5],
  minutes: 2,
  commit: "abc1234",
  command: `gsc train --method ${row.toLowerCase()} --seed ${seed}`,
  ...extra,
});

Deno.test("a run's record: percent per step, new null at step 0, avg and per-class IoU", () => {
  const record = runRecord({
    task: "15-1",
    setting: "overlap",
    row: "FT",
    seed: 1,
    metrics: [
      metrics(0, [0.5, null, 0.5], [0.75, 0.25, null, null]),
      metrics(1, [0.25, 0.125, 0.2], [0.375, 0.125, 0.125, null]),
    ],
    seconds: 90,
    commit: "abc1234",
    command: "gsc train --method ft",
  });
  assertEquals(record.steps, [
    { step: 0, old: 50, new: null, all: 50 },
    { step: 1, old: 25, new: 12.5, all: 20 },
  ]);
  assertEquals([record.avg, record.minutes], [35, 1.5]);
  assertEquals(record.perClass, [37.5, 12.5, 12.5, null]);
  assertEquals(record.large, undefined);
  // A joint run: one step whose metrics are already split by the task's first step.
  const joint = runRecord({
    task: "15-1",
    setting: "overlap",
    row: "Joint",
    seed: 0,
    metrics: [{ ...metrics(0, [0.6, 0.3, 0.5], [0.6, 0.6, 0.3, 0.3]), newClasses: [2, 3] }],
    seconds: 60,
    commit: "abc1234",
    command: "gsc train --method joint",
    large: { split: "test1500", metrics: metrics(0, [0.5, 0.25, 0.4], []) },
  });
  assertEquals(joint.steps, [{ step: 0, old: 60, new: 30, all: 50 }]);
  assertEquals(joint.avg, 50);
  assertEquals(joint.large, { split: "test1500", images: 10, old: 50, new: 25, all: 40 });
});

Deno.test("a joint record read for another task: old/new split anew by its first step, all kept", () => {
  const joint: ResultRun = {
    task: "15-1",
    setting: "overlap",
    row: "Joint",
    seed: 2,
    steps: [{ step: 0, old: 60, new: 20, all: 50 }],
    avg: 50,
    perClass: [90, 50, 40, null, 20],
    minutes: 60,
    commit: "abc1234",
    command: "gsc train --method joint --task 15-1",
    large: { split: "test1500", images: 1500, old: 1, new: 2, all: 3 },
  };
  // A task whose first step holds classes 0-2: old (90 + 50 + 40) / 3, new class 4 alone
  // (class 3 has no value).
  const other = resplitJointRecord(joint, "19-1", [0, 1, 2]);
  assertEquals(other.task, "19-1");
  assertEquals(other.steps, [{ step: 0, old: 60, new: 20, all: 50 }]);
  const split = resplitJointRecord(joint, "10-1", [0, 1]);
  assertEquals(split.steps, [{ step: 0, old: 70, new: 30, all: 50 }]);
  assertEquals([split.avg, split.perClass, split.minutes], [50, joint.perClass, 60]);
  assertEquals(split.large, undefined);
  assertEquals(resplitJointRecord(joint, "10-1", [0, 1, 2, 3, 4]).steps[0].new, null);
  throws(() => resplitJointRecord(run("FT", 0, [1, 1, 1], 1), "10-1", [0]), /2 steps, not one/);
});

Deno.test("merging: by task/setting/row/seed, the commit of a run read back again kept", () => {
  const a = run("FT", 0, [10, 0, 8], 9);
  const b = run("MiB", 0, [20, 5, 15], 16);
  const merged = mergeRuns([b, a], [], ROWS);
  assertEquals(merged.map((r) => r.row), ["FT", "MiB"]);
  // Read back again at a later commit: the same run, its first commit stays.
  const again = mergeRuns(merged, [{ ...a, commit: "def5678" }], ROWS);
  assertEquals(again.map((r) => [r.row, r.commit]), [["FT", "abc1234"], ["MiB", "abc1234"]]);
  // Trained anew (other numbers): replaced, with its own commit; new keys are added in order.
  const retrained = { ...a, minutes: 3, commit: "def5678" };
  const joint = run("Joint", 1, [30, 20, 28], 28);
  const other = { ...run("FT", 0, [1, 0, 1], 1), task: "10-1" };
  const next = mergeRuns(again, [retrained, joint, other], ROWS);
  assertEquals(next.map((r) => [r.task, r.row, r.seed, r.commit]), [
    ["10-1", "FT", 0, "abc1234"],
    ["15-1", "Joint", 1, "abc1234"],
    ["15-1", "FT", 0, "def5678"],
    ["15-1", "MiB", 0, "abc1234"],
  ]);
});

Deno.test("the json round-trips and a malformed file is refused with the run named", () => {
  const runs = [run("Joint", 0, [30, 20, 28], 28), run("FT", 0, [10, 0, 8], 9)];
  const text = resultsJson(runs);
  assert(text.startsWith('{\n  "runs": [\n'));
  assertEquals(parseResults(text).runs, runs);
  throws(() => parseResults('{"rows": []}'), /expected \{"runs": \[\.\.\.\]\}/);
  const bad = JSON.stringify({ runs: [runs[0], { ...runs[1], steps: [] }] });
  throws(() => parseResults(bad), /runs\[1\]: steps is not a non-empty list/);
});

Deno.test("mean ± std over the values present; one value without spread; none as –", () => {
  assertEquals(meanStdCell([10, 20]), "15.0 ± 7.1");
  assertEquals(meanStdCell([12.34]), "12.3");
  assertEquals(meanStdCell([null, 4, undefined, 6]), "5.0 ± 1.4");
  assertEquals(meanStdCell([null]), "–");
});

Deno.test("the markdown: Joint first, mean ± std, missing seeds, rows not run, notes", () => {
  const runs = [
    run("MiB", 0, [20, 4, 16], 18),
    run("MiB", 2, [30, 6, 24], 22, { minutes: 4 }),
    run("Joint", 0, [60, 40, 55], 55),
    run("GSC x", 0, [1, 1, 1], 1),
  ];
  const text = resultsMarkdown(runs, {
    title: "Results",
    intro: "How.",
    rows: ROWS,
    tasks: ["15-1", "10-1"],
    seeds: [0, 1, 2],
    dataset: "synthetic",
    split: "test split",
    notes: "## Notes\n",
  });
  const lines = text.split("\n");
  assertEquals(lines.slice(0, 4), ["# Results", "", "How.", ""]);
  const head = lines.indexOf("## synthetic 15-1 overlapped (seeds 0, 1, 2; test split; mIoU %)");
  assert(head > 0, text);
  assertEquals(lines.slice(head + 2, head + 9), [
    "| method | seeds | old | new | all | avg over steps | minutes per run |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    "| Joint | 1 (missing 1, 2) | 60.0 | 40.0 | 55.0 | 55.0 | 2.0 |",
    "| FT | not run | | | | | |",
    "| MiB | 2 (missing 1) | 25.0 ± 7.1 | 5.0 ± 1.4 | 20.0 ± 5.7 | 20.0 ± 2.8 | 3.0 |",
    // A row of the records that the order does not list follows the listed ones.
    "| GSC x | 1 (missing 1, 2) | 1.0 | 1.0 | 1.0 | 1.0 | 2.0 |",
    "",
  ]);
  // A requested task without runs: every row not run.
  const other = lines.indexOf("## synthetic 10-1 overlapped (seeds 0, 1, 2; test split; mIoU %)");
  assert(other > head, text);
  assertEquals(lines.slice(other + 4, other + 7), [
    "| Joint | not run | | | | | |",
    "| FT | not run | | | | | |",
    "| MiB | not run | | | | | |",
  ]);
  assert(text.endsWith("\n## Notes\n"), text);
});

Deno.test("the markdown: large-test columns where runs have them; seeds from the records", () => {
  const large = { split: "test1500", images: 1500, old: 10, new: 2, all: 8 };
  const runs = [
    run("FT", 0, [10, 0, 8], 9, { large }),
    run("FT", 1, [12, 0, 10], 11, { large: { ...large, all: 12 } }),
  ];
  const lines = resultsMarkdown(runs, { title: "T", intro: "I", rows: ["FT"] }).split("\n");
  assertEquals(lines.slice(4, 9), [
    "## 15-1 overlapped (seeds 0, 1; mIoU %)",
    "",
    "| method | seeds | old | new | all | avg over steps | minutes per run | old, 1500 | " +
    "new, 1500 | all, 1500 |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    "| FT | 2 | 11.0 ± 1.4 | 0.0 ± 0.0 | 9.0 ± 1.4 | 10.0 ± 1.4 | 2.0 | 10.0 ± 0.0 | " +
    "2.0 ± 0.0 | 10.0 ± 2.8 |",
  ]);
});

Deno.test("the markdown: a domain section shows the first cities after step 0 and what was lost", () => {
  const domainRun = (row: string, seed: number, end: number): ResultRun => ({
    ...run(row, seed, [end, 40, 45], 47),
    task: "11-5",
    setting: "domain",
  });
  const runs = [domainRun("FT", 0, 30), domainRun("FT", 1, 40), domainRun("PLOP", 0, 48)];
  const lines = resultsMarkdown(runs, {
    title: "T",
    intro: "I",
    rows: ["FT", "LwF", "PLOP"],
    tasks: ["11-5"],
    setting: "domain",
  }).split("\n");
  assertEquals(lines.slice(4, 11), [
    "## 11-5 domain-incremental (seeds 0, 1; mIoU %)",
    "",
    "| method | seeds | old after step 0 | forgotten | old | new | all | avg over steps | " +
    "minutes per run |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    // Every run's step 0 has old = 50: FT lost 20 and 10 points of it, PLOP 2.
    "| FT | 2 | 50.0 ± 0.0 | 15.0 ± 7.1 | 35.0 ± 7.1 | 40.0 ± 0.0 | 45.0 ± 0.0 | 47.0 ± 0.0 | 2.0 |",
    "| LwF | not run | | | | | | | |",
    "| PLOP | 1 (missing 1) | 50.0 | 2.0 | 48.0 | 40.0 | 45.0 | 47.0 | 2.0 |",
  ]);
});

Deno.test("the markdown: a per-class table per class section, means over seeds, rows with runs", () => {
  const runs = [
    run("MiB", 0, [20, 4, 16], 18, { perClass: [90, 10, null, 5] }),
    run("MiB", 1, [30, 6, 24], 22, { perClass: [80, 20, null, null] }),
    run("Joint", 0, [60, 40, 55], 55, { perClass: [95, 60, 70, 50] }),
  ];
  const lines = resultsMarkdown(runs, {
    title: "T",
    intro: "I",
    rows: ROWS,
    classSteps: (task) => task === "15-1" ? [[0, 1], [3], [2]] : undefined,
  }).split("\n");
  const at = lines.findIndex((l) => l.startsWith("Per class after the last step"));
  assert(at > 0, lines.join("\n"));
  assertEquals(lines.slice(at - 1, at + 9), [
    "",
    "Per class after the last step (IoU %, mean over seeds; step: the one that introduced it):",
    "",
    // FT has no run: no column.
    "| class | step | Joint | MiB |",
    "| --- | --- | --- | --- |",
    "| 0 | 0 | 95.0 | 85.0 |",
    "| 1 | 0 | 60.0 | 15.0 |",
    // A null (unseen, no ground truth) is left out of the mean; none at all is "–".
    "| 2 | 2 | 70.0 | – |",
    "| 3 | 1 | 50.0 | 5.0 |",
    "",
  ]);
  // No steps for the task: no per-class table.
  const plain = resultsMarkdown(runs, { title: "T", intro: "I", rows: ROWS }).split("\n");
  assert(!plain.some((l) => l.startsWith("Per class")), plain.join("\n"));
});
