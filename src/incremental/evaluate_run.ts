/**
 * `gsc eval`: evaluates a finished step's checkpoint of a run directory on
 * a split, prints the metrics and writes them beside the run's outputs.
 *
 * @module
 */
import { Effect } from "effect";
import { makeDeepLabV3 } from "../nn/mod.ts";
import { evaluateStep } from "./evaluate.ts";
import { evalLoader, openRunData, RunSetupError } from "./data.ts";
import { checkpointPaths, readRunCheckpoint } from "./run_state.ts";
import { writeFileAtomic } from "../io/report/mod.ts";
import { modelConfigFor } from "./model_config.ts";
import type { RunConfig, StepMetrics } from "./types.ts";

/** What to evaluate. */
export interface EvaluateRunOptions {
  readonly run: string;
  readonly step?: number;
  readonly split?: string;
  readonly dataRoot?: string;
  readonly strips: number;
}

const percent = (v: number | null) => v === null ? "–" : (v * 100).toFixed(1);

/** One line of metrics. */
export const metricsLine = (m: StepMetrics): string =>
  `step ${m.step}: mIoU old ${percent(m.miouOld)}  new ${percent(m.miouNew)}  ` +
  `all ${percent(m.miouAll)}  pixel acc ${percent(m.pixelAccuracy)}  (${m.images} images)`;

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
    const data = yield* openRunData(config);
    const steps = data.task.steps.length;
    let step = options.step;
    if (step === undefined) {
      for (let t = steps - 1; t >= 0 && step === undefined; t--) {
        const exists = yield* Effect.promise(() =>
          Deno.stat(checkpointPaths(options.run).step(t)).then(() => true, () => false)
        );
        if (exists) step = t;
      }
    }
    if (step === undefined || step < 0 || step >= steps) {
      return yield* new RunSetupError({
        reason: `${options.run} has no finished step${
          options.step === undefined ? "" : ` ${options.step}`
        } to evaluate`,
      });
    }
    const checkpoint = yield* readRunCheckpoint(checkpointPaths(options.run).step(step));
    const classes = data.task.steps.slice(0, step + 1).flat().length;
    const scope = yield* Effect.scope;
    const model = yield* makeDeepLabV3(
      modelConfigFor(config, classes),
      { seed: 0, trainable: false, scope },
    );
    yield* checkpoint.loadInto(model);
    const evaluation = yield* evaluateStep(
      model,
      data.task,
      step,
      evalLoader(data, config, step),
      options.strips,
    );
    yield* writeFileAtomic(
      `${options.run}/eval-step-${step}-${config.evalSplit}.json`,
      JSON.stringify(evaluation.metrics, null, 2) + "\n",
    );
    console.log(metricsLine(evaluation.metrics));
    return evaluation.metrics;
  });
