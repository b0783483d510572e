/**
 * The step engine: trains every step of a task in one run. Step 0 starts
 * from random (or pretrained) weights; step t grows the classifier of step
 * t-1's model and trains it beside a frozen copy of it (the old model),
 * with whatever objective the method builds. A domain-incremental task
 * (Cityscapes' cities) keeps the same classifier at every step: only the
 * images change (`domain.ts`). A checkpoint is written after
 * every epoch and every step; `resume` continues from the last one with the
 * same data order, so the final numbers equal an uninterrupted run's.
 *
 * Guards: the run holds its directory's lock while it goes (`run_lock.ts`);
 * `resume` refuses a checkpoint written with other settings
 * (`resume_check.ts`) or a directory without one; and a NaN or infinite
 * loss, or weights that turned so, stop the run before another checkpoint is
 * written (`divergence.ts`).
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { stepClasses } from "../data/mod.ts";
import type { DeepLabV3 } from "../nn/mod.ts";
import { openRunData, type RunData, RunSetupError, withLoaderWorkers } from "./data.ts";
import { makeDataPass } from "./data_pass.ts";
import { domainStepInfo, isDomainTask } from "./domain.ts";
import { loadFrozenModel } from "./frozen_model.ts";
import { classStepTable, type Method, type StepInfo } from "./method.ts";
import { makeMethod } from "./methods/mod.ts";
import { writeConfig } from "./outputs.ts";
import {
  checkpointPaths,
  type Progress,
  readRunCheckpoint,
  type RunCheckpoint,
} from "./run_state.ts";
import { configDifferences } from "./resume_check.ts";
import { acquireRunLock } from "./run_lock.ts";
import type { ProgressCell, StepContext } from "./step_context.ts";
import { finishStep } from "./step_finish.ts";
import { prepareStepModel } from "./step_model.ts";
import { trainStepEpochs } from "./step_train.ts";
import type { RunConfig, RunEvent, StepMetrics } from "./types.ts";

/** Options of {@link runIncremental}. */
export interface RunOptions {
  /** Receives progress events. */
  readonly onEvent?: (event: RunEvent) => void;
  /** Continue from the run directory's last checkpoint. */
  readonly resume?: boolean;
  /** The command line that started the run, for the report. */
  readonly command?: string;
}

/** What a finished run leaves. */
export interface RunSummary {
  readonly out: string;
  readonly metrics: readonly StepMetrics[];
  readonly reportPath: string;
  readonly seconds: number;
}

const fileExists = (path: string) =>
  Effect.promise(() => Deno.stat(path).then(() => true, () => false));

/** The step's class bookkeeping (a domain step: every class, every step). */
const stepInfo = (data: RunData, config: RunConfig, t: number): StepInfo => {
  if (isDomainTask(data.task)) return domainStepInfo(data.task, config, t);
  const classes = stepClasses(data.task, t);
  return {
    step: t,
    steps: data.task.steps.length,
    seen: classes.old.length + classes.current.length,
    old: classes.old.length,
    current: classes.current,
    classStep: classStepTable(data.task.steps, t),
    config,
  };
};

/** The progress of a fresh run. */
const freshProgress: Progress = {
  step: 0,
  epochsDone: 0,
  stepDone: false,
  iteration: 0,
  metrics: [],
  stepSeconds: [],
};

/** Checks that a checkpoint was written with this run's settings (all that change results). */
const checkResumable = (config: RunConfig, checkpoint: RunCheckpoint) => {
  const differences = configDifferences(checkpoint.meta.config, config);
  return differences.length === 0 ? Effect.void : Effect.fail(
    new RunSetupError({
      reason: `cannot resume: ${checkpoint.path} was written with other settings:\n  ` +
        `${differences.join("\n  ")}\nresume with the run's own options (${config.out}/` +
        `config.json lists them) or choose another --out`,
    }),
  );
};

/** `--resume` on a directory without a run checkpoint. */
const nothingToResume = (config: RunConfig, last: string) =>
  new RunSetupError({
    reason: `--resume: ${config.out} holds no run to resume (${last} does not exist); ` +
      `start the run without --resume`,
  });

/** What every step of a run shares. */
interface RunContext {
  readonly config: RunConfig;
  readonly data: RunData;
  readonly method: Method;
  readonly paths: ReturnType<typeof checkpointPaths>;
  readonly emit: (event: RunEvent) => void;
  readonly run: ProgressCell;
  /** Owns the model's weights and the method's state. */
  readonly runScope: Scope.Scope;
  readonly command: string | undefined;
}

/**
 * Step t in a scope of its own (the old model, the optimizer's arenas and the
 * passes' buffers close with it, on failure too): its model, the old model
 * and the method's pass before training, the epochs, then the finish.
 * `resumed` is the checkpoint being resumed in the middle of this step.
 */
const runStep = (
  context: RunContext,
  t: number,
  previous: DeepLabV3 | undefined,
  resumed: RunCheckpoint | undefined,
) =>
  Effect.scoped(Effect.gen(function* () {
    const started = performance.now();
    const { config, data, method, paths, runScope } = context;
    const info = stepInfo(data, config, t);
    const model = yield* prepareStepModel({
      config,
      info,
      method,
      paths,
      previous,
      resumed,
      runScope,
    });
    const oldModel = t > 0
      ? yield* loadFrozenModel(config, paths.step(t - 1), info.old)
      : undefined;
    const dataPass = makeDataPass(data, config, t, model, oldModel);
    if (t > 0 && method.beginStep) yield* method.beginStep(info, dataPass);
    const step: StepContext = {
      config,
      data,
      info,
      paths,
      method,
      model,
      emit: context.emit,
      run: context.run,
    };
    yield* trainStepEpochs(step, oldModel, resumed);
    yield* finishStep(step, dataPass, started, context.command);
    return model;
  }));

/** Runs (or resumes) every step of the configured task. */
export const runIncremental = (config: RunConfig, options: RunOptions = {}) =>
  Effect.scoped(Effect.gen(function* () {
    const started = performance.now();
    const emit = options.onEvent ?? (() => {});
    const paths = checkpointPaths(config.out);
    if (options.resume && !(yield* fileExists(paths.last))) {
      return yield* nothingToResume(config, paths.last);
    }
    yield* Effect.promise(() => Deno.mkdir(paths.dir, { recursive: true }));
    const owner = {
      pid: Deno.pid,
      hostname: Deno.hostname(),
      started: new Date().toISOString(),
      ...(options.command === undefined ? {} : { command: options.command }),
    };
    yield* acquireRunLock(
      config.out,
      owner,
      (stale, path) => emit({ type: "stale-lock", path, ...stale }),
    );
    const data = yield* withLoaderWorkers(yield* openRunData(config));
    const steps = data.task.steps.length;

    let progress = freshProgress;
    let resumed: RunCheckpoint | undefined;
    const hasLast = yield* fileExists(paths.last);
    if (options.resume && hasLast) {
      const last = yield* readRunCheckpoint(paths.last);
      yield* checkResumable(config, last);
      resumed = last;
      progress = last.meta.progress;
      emit({ type: "resumed", step: progress.step, epoch: progress.epochsDone, from: paths.last });
    } else if (hasLast) {
      return yield* new RunSetupError({
        reason: `${config.out} already holds a run (${paths.last}); pass --resume to continue it ` +
          `or choose another --out`,
      });
    }
    yield* writeConfig(config, options.command);

    const runScope = yield* Effect.scope;
    const method = makeMethod(config, runScope);
    const run: ProgressCell = { progress };
    let model: DeepLabV3 | undefined;
    const firstStep = progress.stepDone ? progress.step + 1 : progress.step;
    const context = { config, data, method, paths, emit, run, runScope, command: options.command };
    for (let t = firstStep; t < steps; t++) {
      // The checkpoint being resumed counts only when it is in the middle of this step.
      const midStep = resumed && !run.progress.stepDone && run.progress.step === t;
      model = yield* runStep(context, t, model, midStep ? resumed : undefined);
      resumed = undefined;
    }
    const seconds = (performance.now() - started) / 1000;
    const reportPath = `${config.out}/report.md`;
    emit({ type: "run-end", reportPath, seconds });
    return {
      out: config.out,
      metrics: run.progress.metrics,
      reportPath,
      seconds,
    } satisfies RunSummary;
  }));
