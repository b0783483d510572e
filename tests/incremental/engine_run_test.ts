/**
 * `runIncremental` in-process on a tiny synthetic 19-1 run (GSC, 32-pixel
 * crops, batch 2, one epoch at step 0 and two at step 1): the events come
 * in order with the step's sizes (batches counted here from the masks'
 * classes), each phase leaves its files (config and lock first; the epoch
 * and step checkpoints before evaluation; the step's outputs before the
 * next step; the lock gone at the end) with the progress, metrics and
 * summary they should hold. A copy of the run directory taken when step 1
 * starts (a run stopped after step 0) and one taken during step 1's second
 * epoch (stopped mid-step, from the epoch checkpoint with momentum,
 * schedule and GSC's prototypes) resume to exactly the uninterrupted run's
 * metrics, weights, strips and CSV.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { ClassTask } from "../../src/data/tasks.ts";
import { Effect } from "effect";
import { writeSyntheticVoc } from "../../src/data/mod.ts";
import { readCheckpoint } from "../../src/nn/checkpoint.ts";
import { openRunData } from "../../src/incremental/data.ts";
import { runIncremental, type RunSummary } from "../../src/incremental/engine.ts";
import { checkpointPaths, readRunCheckpoint } from "../../src/incremental/run_state.ts";
import type { RunConfig, RunEvent } from "../../src/incremental/types.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { assertSameArray, tinyTrainConfig } from "../support/train_cli.ts";

const BATCH = 2;
const TEST_IMAGES = 4;

const root = await Deno.makeTempDir({ prefix: "gsc-engine-run-" });
globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
await Effect.runPromise(
  writeSyntheticVoc({
    root: `${root}/data`,
    size: 32,
    counts: { train: 12, val: 1, test: TEST_IMAGES },
    seed: 5,
  }),
);
const config = tinyTrainConfig({
  data: `${root}/data`,
  out: `${root}/straight`,
  task: "19-1",
  seed: 3,
  epochs: 1,
  epochsNext: 2,
  strips: 1,
  batchSize: BATCH,
});
const data = await Effect.runPromise(openRunData(config));
const STEPS = (data.task as ClassTask).steps;
const EPOCHS = [config.epochs, config.epochsNext];

/** Images of step t by MiB's overlapped rule, counted here: a pixel of a class learned now (not 0). */
const imagesOf = (t: number) =>
  data.trainClassSets.filter((set) => set.some((c) => c !== 0 && STEPS[t].includes(c))).length;
const BATCHES = [0, 1].map((t) => Math.floor(imagesOf(t) / BATCH));

/** Every file under `dir`, relative, sorted. */
const listFiles = (dir: string, prefix = ""): string[] =>
  [...Deno.readDirSync(dir)].flatMap((e) =>
    e.isDirectory
      ? [`${prefix}${e.name}/`, ...listFiles(`${dir}/${e.name}`, `${prefix}${e.name}/`)]
      : [`${prefix}${e.name}`]
  ).sort();

/** Copies a run directory as a killed run would leave it (its lock is of a live process here). */
const copyRun = (from: string, to: string) => {
  Deno.mkdirSync(to, { recursive: true });
  for (const e of Deno.readDirSync(from)) {
    if (e.name === "run.lock") continue;
    if (e.isDirectory) copyRun(`${from}/${e.name}`, `${to}/${e.name}`);
    else Deno.copyFileSync(`${from}/${e.name}`, `${to}/${e.name}`);
  }
};

/** An event as a short line: type, step, epoch and batch where it has them. */
const brief = (e: RunEvent) =>
  [
    e.type,
    "step" in e ? e.step : "",
    "epoch" in e ? e.epoch : "",
    e.type === "batch" ? e.batch : "",
  ].join(" ").trim();

/** The event lines of steps `from`.. of a run, the first starting at `startEpoch`. */
const expectedEvents = (from: number, startEpoch = 0) => {
  const lines: string[] = [];
  for (let t = from; t < STEPS.length; t++) {
    lines.push(`step-start ${t}`);
    for (let epoch = t === from ? startEpoch : 0; epoch < EPOCHS[t]; epoch++) {
      for (let b = 0; b < BATCHES[t]; b++) lines.push(`batch ${t} ${epoch} ${b}`);
      lines.push(`epoch-end ${t} ${epoch}`);
    }
    lines.push(`eval-start ${t}`, `step-end ${t}`);
  }
  lines.push("run-end");
  return lines;
};

const OUTPUTS = (t: number) => [
  `step-${t}-confusion.csv`,
  `step-${t}.json`,
  `strips/step-${t}.png`,
];
const RUN_OUTPUTS = ["metrics.csv", "miou.svg", "report.md", "summary.json", "strips/"];

interface Straight {
  readonly summary: RunSummary;
  readonly events: RunEvent[];
  /** The directory listing when each event was emitted, by its brief line. */
  readonly files: Map<string, string[]>;
  /** summary.json as it was when step 1 started. */
  readonly summaryAfterStep0: { complete: boolean; steps: number };
  readonly afterStep0: string;
  readonly midStep1: string;
}

/** The uninterrupted run, once for the file, with copies taken at the two stopping points. */
let straight: Promise<Straight> | undefined;
const runStraight = () =>
  straight ??= (async () => {
    const events: RunEvent[] = [];
    const files = new Map<string, string[]>();
    let summaryAfterStep0 = { complete: true, steps: -1 };
    const afterStep0 = `${root}/after-step-0`;
    const midStep1 = `${root}/mid-step-1`;
    const summary = await runGpu(runIncremental(config, {
      onEvent: (e) => {
        events.push(e);
        files.set(brief(e), listFiles(config.out));
        if (e.type === "step-start" && e.step === 1) {
          summaryAfterStep0 = JSON.parse(Deno.readTextFileSync(`${config.out}/summary.json`));
          copyRun(config.out, afterStep0);
        }
        // Step 1's second epoch has begun: `last` is the checkpoint of its first.
        if (e.type === "batch" && e.step === 1 && e.epoch === 1 && e.batch === 0) {
          copyRun(config.out, midStep1);
        }
      },
    }));
    return { summary, events, files, summaryAfterStep0, afterStep0, midStep1 };
  })();

Deno.test("the events come in order with the step's sizes", gpuTestOptions, async () => {
  const { events, summary } = await runStraight();
  assert(BATCHES[1] >= 1 && BATCHES[0] > BATCHES[1], `batches per epoch ${BATCHES}`);
  assertEquals(events.map(brief), expectedEvents(0));
  const starts = events.filter((e) => e.type === "step-start");
  assertEquals(
    starts.map((e) => [e.step, e.steps, e.classes, e.trainImages, e.epochs, e.batchesPerEpoch]),
    [0, 1].map((t) => [t, 2, STEPS[t], imagesOf(t), EPOCHS[t], BATCHES[t]]),
  );
  for (const e of events) {
    if (e.type === "batch") {
      assertEquals(e.batches, BATCHES[e.step]);
      assert(Number.isFinite(e.loss) && e.loss > 0, `loss ${e.loss}`);
    }
    if (e.type === "epoch-end") assertEquals(e.epochs, EPOCHS[e.step]);
    if (e.type === "eval-start") assertEquals(e.images, TEST_IMAGES);
  }
  // An epoch's loss is the mean of its batches'.
  for (const end of events.filter((e) => e.type === "epoch-end")) {
    const losses = events.filter((e) =>
      e.type === "batch" && e.step === end.step && e.epoch === end.epoch
    ).map((e) => e.type === "batch" ? e.loss : NaN);
    assertEquals(end.loss, losses.reduce((a, b) => a + b, 0) / losses.length);
  }
  const stepEnds = events.filter((e) => e.type === "step-end");
  assertEquals(stepEnds.map((e) => e.metrics), summary.metrics);
  assertEquals(summary.metrics.map((m) => [m.step, m.images, m.seenClasses.length]), [
    [0, TEST_IMAGES, 20],
    [1, TEST_IMAGES, 21],
  ]);
  const end = events[events.length - 1];
  assert(end.type === "run-end");
  assertEquals(end.reportPath, `${config.out}/report.md`);
  assertEquals(summary.reportPath, end.reportPath);
});

Deno.test("each phase leaves its files, progress and summary", gpuTestOptions, async () => {
  const { files, summary, summaryAfterStep0 } = await runStraight();
  const ckpt = (names: string[]) => ["checkpoints/", ...names.map((n) => `checkpoints/${n}`)];
  // Before training: the configuration, the lock, an empty checkpoint folder.
  assertEquals(files.get("step-start 0"), ["checkpoints/", "config.json", "run.lock"]);
  // Step 0 trained: its epoch checkpoint, then before evaluation its step checkpoint.
  assertEquals(files.get("epoch-end 0 0"), ["checkpoints/", "config.json", "run.lock"]);
  assertEquals(
    files.get("eval-start 0"),
    [...ckpt(["last.safetensors", "step-0.safetensors"]), "config.json", "run.lock"],
  );
  // Step 0's outputs are written after its step-end, before step 1 starts.
  assertEquals(
    files.get("step-end 0"),
    [...ckpt(["last.safetensors", "step-0.safetensors"]), "config.json", "run.lock"],
  );
  const afterStep0 = [
    ...ckpt(["last.safetensors", "step-0.safetensors"]),
    "config.json",
    ...RUN_OUTPUTS,
    "run.lock",
    ...OUTPUTS(0),
  ].sort();
  assertEquals(files.get("step-start 1"), afterStep0);
  assertEquals(files.get("epoch-end 1 1"), afterStep0);
  assertEquals(
    files.get("eval-start 1"),
    [...afterStep0, "checkpoints/step-1.safetensors"].sort(),
  );
  const finished = [...afterStep0, "checkpoints/step-1.safetensors", ...OUTPUTS(1)].sort();
  assertEquals(files.get("run-end"), finished);
  // The lock goes with the run.
  assertEquals(listFiles(config.out), finished.filter((f) => f !== "run.lock"));

  assertEquals(summaryAfterStep0.complete, false);
  assertEquals(summaryAfterStep0.steps, 1);
  const final = JSON.parse(await Deno.readTextFile(`${config.out}/summary.json`));
  assertEquals(final.complete, true);
  assertEquals(final.steps, 2);
  assertEquals(final.final, summary.metrics[1]);
  assertEquals(final.average, (summary.metrics[0].miouAll! + summary.metrics[1].miouAll!) / 2);
  for (const t of [0, 1]) {
    const step = JSON.parse(await Deno.readTextFile(`${config.out}/step-${t}.json`));
    assertEquals(step.step, t);
    // The confusion matrix: a row per seen class, every evaluated pixel counted once.
    const rows = (await Deno.readTextFile(`${config.out}/step-${t}-confusion.csv`)).trim()
      .split("\n").slice(1).map((line) => line.split(",").slice(1).map(Number));
    assertEquals(rows.length, step.seenClasses.length);
    assertEquals(rows.flat().reduce((a, b) => a + b, 0), step.pixels);
  }
  const csv = (await Deno.readTextFile(`${config.out}/metrics.csv`)).trim().split("\n");
  assertEquals(
    csv.map((line) => line.split(",")).map((row) => [row.length, row[0], Number(row.at(-1))]),
    summary.metrics.map((m) => [23, String(m.step), m.miouAll]),
  );

  const paths = checkpointPaths(config.out);
  const last = await Effect.runPromise(readRunCheckpoint(paths.last));
  assertEquals(last.meta.kind, "step");
  assertEquals(last.meta.classes, STEPS[1]);
  const { stepSeconds, ...progress } = last.meta.progress;
  assertEquals(progress, {
    step: 1,
    epochsDone: EPOCHS[1],
    stepDone: true,
    iteration: EPOCHS[1] * BATCHES[1],
    metrics: summary.metrics,
  });
  assertEquals(stepSeconds.length, 2);
  assertEquals(last.optimizer, undefined);
  assertEquals(last.meta.config, config);
  // GSC's state: its prototypes, and the step's training batches (the quantile variant's epoch).
  const batchesSeen = EPOCHS[1] * BATCHES[1];
  assertEquals(last.method.json, { prototypes: true, step: 1, batchesSeen });
  assertEquals(last.method.tensors["gsc.prototypes"].shape[0], 21);
  const step0 = await Effect.runPromise(readRunCheckpoint(paths.step(0)));
  assertEquals(step0.meta.kind, "step");
  assertEquals(step0.meta.classes, STEPS[0]);
  assertEquals(step0.meta.progress.step, 0);
  assertEquals(step0.meta.progress.epochsDone, EPOCHS[0]);
  assertEquals(step0.meta.progress.iteration, EPOCHS[0] * BATCHES[0]);
  assertEquals(step0.method.tensors["gsc.prototypes"].shape[0], 20);
});

/** Resumes a copy of the run; its events and what it ends with. */
const resume = async (out: string) => {
  const events: RunEvent[] = [];
  const resumed: RunConfig = { ...config, out };
  const summary = await runGpu(
    runIncremental(resumed, { resume: true, onEvent: (e) => events.push(e) }),
  );
  return { events, summary };
};

/** The tensors of a checkpoint as bytes by name. */
const tensorBytes = async (path: string) => {
  const checkpoint = await Effect.runPromise(readCheckpoint(path));
  return Object.fromEntries(
    Object.entries(checkpoint.tensors).map(([name, t]) => [
      name,
      new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
    ]),
  );
};

/** A resumed run ends exactly as the uninterrupted one. */
const assertSameEnd = async (out: string, summary: RunSummary, reference: Straight) => {
  assertEquals(summary.metrics, reference.summary.metrics);
  const [a, b] = [`${config.out}`, out];
  const final = async (dir: string) =>
    JSON.parse(await Deno.readTextFile(`${dir}/summary.json`)).final;
  assertEquals(await final(b), await final(a));
  for (const file of ["metrics.csv", "strips/step-1.png"]) {
    assertSameArray(await Deno.readFile(`${b}/${file}`), await Deno.readFile(`${a}/${file}`), file);
  }
  const weights = await tensorBytes(checkpointPaths(b).step(1));
  const straightWeights = await tensorBytes(checkpointPaths(a).step(1));
  assert("method.gsc.prototypes" in weights);
  assertEquals(Object.keys(weights), Object.keys(straightWeights));
  for (const name in straightWeights) assertSameArray(weights[name], straightWeights[name], name);
};

Deno.test(
  "a run stopped after step 0 and resumed ends exactly as the uninterrupted run",
  gpuTestOptions,
  async () => {
    const reference = await runStraight();
    const out = reference.afterStep0;
    assertEquals(listFiles(`${out}/checkpoints`), ["last.safetensors", "step-0.safetensors"]);
    const { events, summary } = await resume(out);
    assertEquals(events[0], {
      type: "resumed",
      step: 0,
      epoch: EPOCHS[0],
      from: checkpointPaths(out).last,
    });
    assertEquals(events.slice(1).map(brief), expectedEvents(1));
    await assertSameEnd(out, summary, reference);
  },
);

Deno.test(
  "a run stopped in step 1's second epoch and resumed ends exactly as the uninterrupted run",
  gpuTestOptions,
  async () => {
    const reference = await runStraight();
    const out = reference.midStep1;
    const last = await Effect.runPromise(readRunCheckpoint(checkpointPaths(out).last));
    assertEquals(last.meta.kind, "epoch");
    assertEquals(
      [last.meta.progress.step, last.meta.progress.epochsDone, last.meta.progress.iteration],
      [1, 1, BATCHES[1]],
    );
    assert(last.optimizer && Object.keys(last.optimizer.momentumBuffers).length > 0);
    const { events, summary } = await resume(out);
    assertEquals(events[0], {
      type: "resumed",
      step: 1,
      epoch: 1,
      from: checkpointPaths(out).last,
    });
    assertEquals(events.slice(1).map(brief), expectedEvents(1, 1));
    await assertSameEnd(out, summary, reference);
  },
);
