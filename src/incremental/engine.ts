/**
 * The step engine: trains every step of a task in one run. Step 0 starts
 * from random (or pretrained) weights; step t grows the classifier of step
 * t-1's model and trains it beside a frozen copy of it (the old model),
 * with whatever objective the method builds. A checkpoint is written after
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
import { Effect, Exit, Scope } from "effect";
import { hashSeed } from "../util/rng.ts";
import { stepClasses } from "../data/mod.ts";
import { type DeepLabV3, makeDeepLabV3 } from "../nn/mod.ts";
import { modelConfigFor } from "./model_config.ts";
import { loadPretrained } from "../nn/checkpoint.ts";
import { polySchedule } from "../optim/poly.ts";
import { makeSgd, type SgdState } from "../optim/sgd.ts";
import { evaluateStep } from "./evaluate.ts";
import { evalLoader, openRunData, type RunData, RunSetupError, trainLoader } from "./data.ts";
import { makeDataPass } from "./data_pass.ts";
import { classStepTable, type MethodState, type StepInfo } from "./method.ts";
import { makeMethod } from "./methods/mod.ts";
import { writeConfig, writeStepOutputs } from "./outputs.ts";
import {
  checkpointPaths,
  type Progress,
  readRunCheckpoint,
  type RunCheckpoint,
  writeRunCheckpoint,
} from "./run_state.ts";
import { trainEpoch } from "./train_epoch.ts";
import { type DivergencePlace, guardWrite } from "./divergence.ts";
import { configDifferences } from "./resume_check.ts";
import { acquireRunLock } from "./run_lock.ts";
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

/** The step's class bookkeeping. */
const stepInfo = (data: RunData, config: RunConfig, t: number): StepInfo => {
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

/** The keys of `config` whose values differ in the checkpoint's saved configuration. */
const differingKeys = (
  saved: RunConfig | undefined,
  config: RunConfig,
  keys: readonly (keyof RunConfig)[],
) => keys.filter((k) => JSON.stringify(saved?.[k]) !== JSON.stringify(config[k]));

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

/** Checks that a `step0` checkpoint is a finished step 0 of a run this run can share. */
const checkStep0 = (config: RunConfig, checkpoint: RunCheckpoint) => {
  const meta = checkpoint.meta;
  if (meta?.kind !== "step" || meta.progress?.step !== 0 || meta.config === undefined) {
    return Effect.fail(
      new RunSetupError({
        reason: `${checkpoint.path} is not a finished step-0 checkpoint of a run ` +
          `(pass a run's checkpoints/step-0.safetensors)`,
      }),
    );
  }
  const differing = differingKeys(meta.config, config, [
    "dataset",
    "task",
    "overlap",
    "backbone",
    "outputStride",
  ]);
  return differing.length === 0 ? Effect.void : Effect.fail(
    new RunSetupError({
      reason: `${checkpoint.path} was trained with a different ${
        differing.map((k) => `${k} (${meta.config[k]}, here ${config[k]})`).join(", ")
      }; step 0 can only be shared between runs of the same task and model`,
    }),
  );
};

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
    const data = yield* openRunData(config);
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

    const runScope = yield* Scope.make();
    const method = makeMethod(config, runScope);
    let model: DeepLabV3 | undefined;
    const firstStep = progress.stepDone ? progress.step + 1 : progress.step;

    for (let t = firstStep; t < steps; t++) {
      const stepStarted = performance.now();
      const info = stepInfo(data, config, t);
      const stepScope = yield* Scope.make();
      const midStep = resumed !== undefined && !progress.stepDone && progress.step === t;

      // The model of this step: fresh, resumed from `last`, or grown from step t-1.
      if (model === undefined) {
        const rows = midStep || t === 0 ? info.seen : info.old;
        model = yield* makeDeepLabV3(modelConfigFor(config, rows), {
          seed: hashSeed(config.seed, "init"),
          scope: runScope,
        });
        if (midStep) yield* resumed!.loadInto(model);
        else if (t > 0) {
          const previous = yield* readRunCheckpoint(paths.step(t - 1));
          yield* previous.loadInto(model);
          if (method.importState) yield* method.importState(previous.method);
        } else if (config.step0) {
          const base = yield* readRunCheckpoint(config.step0);
          yield* checkStep0(config, base);
          yield* base.loadInto(model);
        } else if (config.pretrained) yield* loadPretrained(model, config.pretrained);
        if (midStep && method.importState) yield* method.importState(resumed!.method);
      }
      if (t > 0 && !midStep && model.numClasses < info.seen) {
        yield* model.growClassifier(info.seen - model.numClasses);
      }
      const oldModel = t > 0
        ? yield* Scope.provide(loadOldModel(config, paths.step(t - 1), info.old), stepScope)
        : undefined;
      const dataPass = makeDataPass(data, config, t, model, oldModel);
      if (t > 0 && method.beginStep) yield* method.beginStep(info, dataPass);

      // Training.
      const loader = trainLoader(data, config, t);
      const loadedStep = t === 0 && config.step0 !== undefined;
      const epochs = loadedStep ? 0 : t === 0 ? config.epochs : config.epochsNext;
      const batches = loader.batchesPerEpoch;
      if (batches === 0) {
        return yield* new RunSetupError({
          reason: `step ${t} has ${loader.order(0).length} training images, fewer than one batch ` +
            `of ${config.batchSize}`,
        });
      }
      emit({
        type: "step-start",
        step: t,
        steps,
        classes: info.current,
        trainImages: loader.order(0).length,
        epochs,
        batchesPerEpoch: batches,
        ...(loadedStep ? { loadedFrom: config.step0 } : {}),
      });
      // One arena for the step's parameters: SGD and zeroing are one dispatch each.
      yield* model.packParameters();
      const groups = model.parameterGroups();
      const sgd = yield* makeSgd([
        { parameters: groups.backbone },
        { parameters: groups.head, lrMultiplier: config.headLrMultiplier },
      ], {
        momentum: config.momentum,
        nesterov: config.nesterov,
        weightDecay: config.weightDecay,
      }, stepScope);
      // A loaded step takes no optimizer step; its schedule only needs a valid length.
      let schedule = polySchedule(
        t === 0 ? config.lr : config.lrNext,
        Math.max(1, epochs * batches),
      );
      let startEpoch = 0;
      if (midStep) {
        startEpoch = progress.epochsDone;
        schedule = { ...schedule, iteration: progress.iteration };
        if (resumed!.optimizer) yield* sgd.importState(resumed!.optimizer);
      } else {
        progress = { ...progress, step: t, epochsDone: 0, stepDone: false, iteration: 0 };
      }
      const parameters = model.parameters();
      const stepModel = model;
      /** Writes a checkpoint of the run as it stands, refusing non-finite values. */
      const writeCheckpoint = (
        path: string,
        kind: "epoch" | "step",
        methodState: MethodState | undefined,
        optimizer: SgdState | undefined,
        place: DivergencePlace,
      ) =>
        guardWrite(
          writeRunCheckpoint(
            path,
            stepModel,
            { kind, config, progress, classes: info.current },
            methodState,
            optimizer,
          ),
          place,
          paths.dir,
        );
      const context = {
        info,
        model,
        oldModel,
        method,
        sgd,
        parameters,
        gradScope: stepScope,
        freezeBn: t > 0 && config.freezeBnNext,
      };
      for (let epoch = startEpoch; epoch < epochs; epoch++) {
        const epochStarted = performance.now();
        const stream = loader.epoch(epoch);
        const place = { step: t, epoch, epochs, batches, checkpoints: paths.dir };
        const trained = yield* trainEpoch(context, stream, schedule, place, emit).pipe(
          Effect.ensuring(Effect.sync(() => stream.close())),
        );
        schedule = trained.schedule;
        const { lossSum, images } = trained;
        const seconds = (performance.now() - epochStarted) / 1000;
        emit({
          type: "epoch-end",
          step: t,
          epoch,
          epochs,
          loss: lossSum / batches,
          seconds,
          imagesPerSecond: images / seconds,
        });
        progress = { ...progress, epochsDone: epoch + 1, iteration: schedule.iteration };
        const methodState = method.exportState ? yield* method.exportState() : undefined;
        yield* writeCheckpoint(paths.last, "epoch", methodState, yield* sgd.exportState(), {
          step: t,
          epoch,
          epochs,
          batch: batches - 1,
          batches,
        });
      }
      for (const p of parameters) p.grad = undefined;

      // After training: the method's pass, the step checkpoint, evaluation, outputs.
      if (method.endStep) yield* method.endStep(info, dataPass);
      const methodState = method.exportState ? yield* method.exportState() : undefined;
      yield* writeCheckpoint(paths.step(t), "step", methodState, undefined, { step: t });
      const loaderForEval = evalLoader(data, config, t);
      emit({ type: "eval-start", step: t, images: loaderForEval.order(0).length });
      const evaluation = yield* evaluateStep(model, data.task, t, loaderForEval, config.strips);
      // A resumed step counts only this process's time.
      const stepSeconds = (performance.now() - stepStarted) / 1000;
      progress = {
        ...progress,
        stepDone: true,
        metrics: [...progress.metrics, evaluation.metrics],
        stepSeconds: [...progress.stepSeconds, stepSeconds],
      };
      emit({ type: "step-end", step: t, metrics: evaluation.metrics });
      yield* writeStepOutputs(config, data, progress, evaluation, options.command);
      yield* writeCheckpoint(paths.last, "step", methodState, undefined, { step: t });
      yield* Scope.close(stepScope, Exit.void);
      resumed = undefined;
    }
    yield* Scope.close(runScope, Exit.void);
    const seconds = (performance.now() - started) / 1000;
    const reportPath = `${config.out}/report.md`;
    emit({ type: "run-end", reportPath, seconds });
    return { out: config.out, metrics: progress.metrics, reportPath, seconds } satisfies RunSummary;
  }));

/** The frozen copy of step t-1's model: parameters are constants, BN in eval mode. */
const loadOldModel = (config: RunConfig, path: string, classes: number) =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope;
    const old = yield* makeDeepLabV3(modelConfigFor(config, classes), {
      seed: 0,
      trainable: false,
      scope,
    });
    const checkpoint = yield* readRunCheckpoint(path);
    yield* checkpoint.loadInto(old);
    return old;
  });
