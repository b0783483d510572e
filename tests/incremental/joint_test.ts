/**
 * `--method joint` in-process on a tiny synthetic 19-1 set: one step over
 * every class (0..20) on every training image (none filtered out, where
 * MiB's filter drops images without a class of the step) for the step-0
 * epochs, its metrics split old/new by the task's first step (0..19 | 20)
 * in `step-0.json`, `summary.json` and `gsc eval`'s record; a copy taken in
 * its second epoch resumes to the same metrics and weights, while resuming
 * it as another method, or sharing its checkpoint as another run's step 0,
 * is refused.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Effect } from "effect";
import { type SampleRef, writeSyntheticVoc } from "../../src/data/mod.ts";
import { openRunData, type RunData, stepSamples } from "../../src/incremental/data.ts";
import { runIncremental } from "../../src/incremental/engine.ts";
import { evaluateRun } from "../../src/incremental/evaluate_run.ts";
import { checkpointPaths, readRunCheckpoint } from "../../src/incremental/run_state.ts";
import type { RunEvent, StepMetrics } from "../../src/incremental/types.ts";
import { readCheckpoint } from "../../src/nn/checkpoint.ts";
import { gpuTestOptions, runGpu, runGpuResult } from "../support/gpu.ts";
import { assertSameArray, tinyTrainConfig } from "../support/train_cli.ts";

const BATCH = 2;
const TRAIN_IMAGES = 16;
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

const root = await Deno.makeTempDir({ prefix: "gsc-joint-" });
globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
await Effect.runPromise(
  writeSyntheticVoc({
    root: `${root}/data`,
    size: 32,
    counts: { train: TRAIN_IMAGES, val: 1, test: 4 },
    seed: 11,
  }),
);
const tiny = (method: string, out: string) => ({
  data: `${root}/data`,
  out,
  task: "19-1",
  seed: 2,
  epochs: 2,
  epochsNext: 1,
  strips: 0,
  batchSize: BATCH,
  method,
});
const config = tinyTrainConfig(tiny("joint", `${root}/joint`));

/** Copies a run directory as a killed run would leave it (without its lock). */
const copyRun = (from: string, to: string) => {
  Deno.mkdirSync(to, { recursive: true });
  for (const e of Deno.readDirSync(from)) {
    if (e.name === "run.lock") continue;
    if (e.isDirectory) copyRun(`${from}/${e.name}`, `${to}/${e.name}`);
    else Deno.copyFileSync(`${from}/${e.name}`, `${to}/${e.name}`);
  }
};

const mean = (iou: readonly (number | null)[], classes: readonly number[]) => {
  const values = classes.map((c) => iou[c]).filter((v): v is number => v !== null);
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
};

const readJson = (path: string) => JSON.parse(Deno.readTextFileSync(path));

const midRun = `${root}/joint-mid`;
const events: RunEvent[] = [];
const summary = await runGpu(runIncremental(config, {
  onEvent: (e) => {
    events.push(e);
    if (e.type === "batch" && e.epoch === 1 && e.batch === 0) copyRun(config.out, midRun);
  },
}));

Deno.test(
  "a joint run trains one step over every class on every image",
  gpuTestOptions,
  async () => {
    const data = await Effect.runPromise(openRunData(config));
    assertEquals(data.task.steps, [range(0, 20)]);
    assertEquals(data.split, { old: range(0, 19), new: [20] });
    assertEquals(data.trainSamples.length, TRAIN_IMAGES);
    const starts = events.filter((e) => e.type === "step-start");
    assertEquals(
      starts.map((e) => [e.step, e.steps, e.classes, e.trainImages, e.epochs, e.batchesPerEpoch]),
      [[0, 1, range(0, 20), TRAIN_IMAGES, config.epochs, TRAIN_IMAGES / BATCH]],
    );
    assertEquals(events.filter((e) => e.type === "epoch-end").length, config.epochs);
    assertEquals(summary.metrics.length, 1);
    const files = [...Deno.readDirSync(checkpointPaths(config.out).dir)].map((e) => e.name).sort();
    assertEquals(files, ["last.safetensors", "step-0.safetensors"]);
    const step = await Effect.runPromise(readRunCheckpoint(checkpointPaths(config.out).step(0)));
    assertEquals(step.meta.classes, range(0, 20));
  },
);

Deno.test("a joint step keeps every image, where MiB's filters drop some", async () => {
  const data = await Effect.runPromise(openRunData(config));
  // Background only; old and current classes; a class of a later step only.
  const sets = [[0], [0, 3, 255], [0, 20]];
  const samples = sets.map((_, i) => ({ name: `i${i}` }) as unknown as SampleRef);
  const fake: RunData = { ...data, trainClassSets: sets, trainSamples: samples };
  assertEquals(stepSamples(fake, config, 0), samples);
  const ft = tinyTrainConfig(tiny("ft", `${root}/unused`));
  const incremental = await Effect.runPromise(openRunData(ft));
  const filtered = { ...incremental, trainClassSets: sets, trainSamples: samples };
  assertEquals(stepSamples(filtered, ft, 0), [samples[1]]);
});

Deno.test(
  "a joint run's metrics split old/new by the task's first step",
  gpuTestOptions,
  async () => {
    const step: StepMetrics = readJson(`${config.out}/step-0.json`);
    assertEquals(step.step, 0);
    assertEquals(step.seenClasses, range(0, 20));
    assertEquals([step.oldClasses, step.newClasses], [range(0, 19), [20]]);
    // The test images hold old classes and class 20.
    assert(step.miouOld !== null && step.miouNew !== null, JSON.stringify(step.iou));
    assertEquals(step.miouOld, mean(step.iou, range(0, 19)));
    assertEquals(step.miouNew, mean(step.iou, [20]));
    assertEquals(step.miouAll, mean(step.iou, range(0, 20)));
    const written = readJson(`${config.out}/summary.json`);
    assertEquals([written.complete, written.steps], [true, 1]);
    const { trainSeconds: _train, evalSeconds: _eval, ...metrics } = step as StepMetrics & {
      trainSeconds: number;
      evalSeconds: number;
    };
    assertEquals(written.final, metrics);
    assertEquals(written.average, step.miouAll);
    assertEquals(written.joint, {
      oldClasses: range(0, 19),
      newClasses: [20],
      miouOld: step.miouOld,
      miouNew: step.miouNew,
      miouAll: step.miouAll,
    });
    // `gsc eval` of the run's one step splits it the same way.
    const again = await runGpu(evaluateRun({ run: config.out, strips: 0 }));
    assertEquals(again, metrics);
    assertEquals(readJson(`${config.out}/eval-step-0-test.json`), metrics);
    // Its confusion matrix: a header of the seen classes, one row each, every pixel counted,
    // and each class's diagonal share its IoU's true positives.
    const csv = Deno.readTextFileSync(`${config.out}/eval-step-0-test-confusion.csv`).trim();
    const [header, ...rows] = csv.split("\n").map((line) => line.split(","));
    assertEquals(header, ["label", ...range(0, 20).map(String)]);
    assertEquals(rows.map((r) => Number(r[0])), range(0, 20));
    const cells = rows.map((r) => r.slice(1).map(Number));
    assertEquals(cells.flat().reduce((a, b) => a + b, 0), metrics.pixels);
    for (const c of range(0, 20)) {
      const tp = cells[c][c];
      const fn = cells[c].reduce((a, b) => a + b, 0) - tp;
      const fp = cells.reduce((a, r) => a + r[c], 0) - tp;
      if (tp + fn > 0) assertEquals(metrics.iou[c], tp / (tp + fp + fn));
    }
    const report = Deno.readTextFileSync(`${config.out}/report.md`);
    assert(report.includes("old = the task's first step (0–19)"), report);
  },
);

Deno.test(
  "a joint run resumes to the same result; not as another method",
  gpuTestOptions,
  async () => {
    const other = `${root}/joint-as-ft`;
    copyRun(midRun, other);
    const ft = tinyTrainConfig(tiny("ft", other));
    const refused = await runGpuResult(runIncremental(ft, { resume: true }));
    assert(refused._tag === "Failure", "resumed a joint run as ft");
    assert(String(refused.failure).includes("--method: joint (checkpoint) vs ft (now)"));

    const resumed = await runGpu(runIncremental({ ...config, out: midRun }, { resume: true }));
    assertEquals(resumed.metrics, summary.metrics);
    const [a, b] = await Promise.all(
      [config.out, midRun].map((out) =>
        Effect.runPromise(readCheckpoint(checkpointPaths(out).step(0)))
      ),
    );
    assertEquals(Object.keys(b.tensors).sort(), Object.keys(a.tensors).sort());
    for (const [name, tensor] of Object.entries(a.tensors)) {
      assertSameArray(b.tensors[name].data, tensor.data, name);
    }
  },
);

Deno.test("a joint run's checkpoint is not a step 0 to share", gpuTestOptions, async () => {
  const step0 = checkpointPaths(config.out).step(0);
  const ft = { ...tinyTrainConfig(tiny("ft", `${root}/ft-from-joint`)), step0 };
  const refused = await runGpuResult(runIncremental(ft));
  assert(refused._tag === "Failure", "shared a joint run's checkpoint as step 0");
  assert(String(refused.failure).includes("is a joint run's checkpoint"), String(refused.failure));
});
