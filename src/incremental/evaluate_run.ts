/**
 * `gsc eval`: evaluates a finished step's checkpoint of a run directory on
 * a split, prints the metrics and writes them beside the run's outputs
 * (`eval-step-<t>-<split>.json`, and the confusion matrix as
 * `eval-step-<t>-<split>-confusion.csv`; `confusion_report.ts`). A
 * domain run (Cityscapes' cities) is evaluated as its training evaluated it:
 * RCIL's test images of the cities seen by the step, one group per step, on
 * the 19 classes.
 *
 * @module
 */
import { Effect } from "effect";
import { evaluateStep } from "./evaluate.ts";
import { classConfusions, confusionCsv, confusionLines } from "./confusion_report.ts";
import { evalLoaders, openRunData, resolveTask, RunSetupError } from "./data.ts";
import { isDomainTask } from "./domain.ts";
import { checkpointPaths, readRunCheckpoint } from "./run_state.ts";
import { writeFileAtomic } from "./report/mod.ts";
import { loadFrozenModel } from "./frozen_model.ts";
import type { RunConfig, StepMetrics } from "./types.ts";

/** What to evaluate. */
export interface EvaluateRunOptions {
  readonly run: string;
  readonly step?: number;
  readonly split?: string;
  readonly dataRoot?: string;
  readonly strips: number;
  /** Per class, how many of the classes that took its pixels to print (0 or absent: none). */
  readonly confusion?: number;
}

const percent = (v: number | null) => v === null ? "–" : (v * 100).toFixed(1);

/** One line of metrics. */
export const metricsLine = (m: StepMetrics): string =>
  `step ${m.step}: mIoU old ${percent(m.miouOld)}  new ${percent(m.miouNew)}  ` +
  `all ${percent(m.miouAll)}  pixel acc ${percent(m.pixelAccuracy)}  (${m.images} images)`;

const exists = (path: string) =>
  Effect.promise(() => Deno.stat(path).then(() => true, () => false));

/** The steps of a run that have a step checkpoint, ascending. */
export const finishedSteps = (run: string, steps: number) =>
  Effect.gen(function* () {
    const done: number[] = [];
    for (let t = 0; t < steps; t++) {
      if (yield* exists(checkpointPaths(run).step(t))) done.push(t);
    }
    return done;
  });

/**
 * The step to evaluate: `requested` when it has a checkpoint, else the last
 * finished step; fails naming the finished steps otherwise.
 */
export const chooseStep = (run: string, steps: number, requested: number | undefined) =>
  Effect.gen(function* () {
    const done = yield* finishedSteps(run, steps);
    const finished = done.length === 0
      ? "no step is finished yet"
      : `finished: ${done.length === 1 ? "step" : "steps"} ${done.join(", ")}`;
    if (requested === undefined) {
      if (done.length > 0) return done[done.length - 1];
      return yield* new RunSetupError({
        reason: `${run} has no step checkpoint to evaluate (${finished})`,
      });
    }
    if (requested >= steps) {
      return yield* new RunSetupError({
        reason: `--step ${requested}: the run's task has steps 0..${steps - 1} (${finished})`,
      });
    }
    if (!done.includes(requested)) {
      return yield* new RunSetupError({
        reason: `--step ${requested}: step ${requested} of ${run} has no checkpoint yet ` +
          `(${checkpointPaths(run).step(requested)}); ${finished}`,
      });
    }
    return requested;
  });

/** Evaluates a run's step checkpoint; returns its metrics. */
export const evaluateRun = (options: EvaluateRunOptions) =>
  Effect.gen(function* () {
    const configFile = `${options.run}/config.json`;
    const text = yield* Effect.tryPromise({
      try: () => Deno.readTextFile(configFile),
      catch: () =>
        new RunSetupError({ reason: `${configFile}: missing; is ${options.run} a run?` }),
    });
    const saved = JSON.parse(text) as RunConfig;
    const config: RunConfig = {
      ...saved,
      dataRoot: options.dataRoot ?? saved.dataRoot,
      evalSplit: options.split ?? saved.evalSplit,
    };
    const task = yield* resolveTask(config);
    const step = yield* chooseStep(options.run, task.steps.length, options.step);
    const data = yield* openRunData(config, "eval");
    const checkpoint = yield* readRunCheckpoint(checkpointPaths(options.run).step(step));
    // A domain task's steps are cities: its classifier has every class from step 0.
    const classes = isDomainTask(data.task)
      ? data.task.classes.length
      : data.task.steps.slice(0, step + 1).flat().length;
    const model = yield* loadFrozenModel(config, checkpoint, classes);
    const evaluation = yield* evaluateStep(
      model,
      data.task,
      step,
      evalLoaders(data, config, step),
      options.strips,
      data.split,
    );
    const stem = `${options.run}/eval-step-${step}-${config.evalSplit}`;
    yield* writeFileAtomic(`${stem}.json`, JSON.stringify(evaluation.metrics, null, 2) + "\n");
    const k = Math.sqrt(evaluation.matrix.length);
    const seen = evaluation.metrics.seenClasses;
    yield* writeFileAtomic(`${stem}-confusion.csv`, confusionCsv(evaluation.matrix, k, seen));
    console.log(metricsLine(evaluation.metrics));
    if (options.confusion) {
      const lines = confusionLines(classConfusions(evaluation.matrix, k, seen, options.confusion));
      for (const line of lines) console.log(line);
    }
    return evaluation.metrics;
  });
