/**
 * The second phase of a step: its epochs. The parameters are packed into one
 * arena, SGD and the poly schedule are set up (or restored from the checkpoint
 * being resumed), and every epoch ends with a checkpoint of the run.
 *
 * @module
 */
import { Effect } from "effect";
import { makeSgd } from "../optim/sgd.ts";
import { polySchedule } from "../optim/poly.ts";
import type { DeepLabV3 } from "../nn/mod.ts";
import { type RunData, RunSetupError, trainLoader } from "./data.ts";
import type { RunCheckpoint } from "./run_state.ts";
import { type StepContext, writeStepCheckpoint } from "./step_context.ts";
import { trainEpoch } from "./train_epoch.ts";
import type { RunConfig } from "./types.ts";

/** The epochs step t trains: none for a step 0 loaded with `--step0`. */
const epochsOf = (config: RunConfig, t: number) =>
  t === 0 && config.step0 !== undefined ? 0 : t === 0 ? config.epochs : config.epochsNext;

/** The training loader of step t, refusing a step with less than one batch. */
const stepLoader = (data: RunData, config: RunConfig, t: number) => {
  const loader = trainLoader(data, config, t);
  return loader.batchesPerEpoch > 0 ? Effect.succeed(loader) : Effect.fail(
    new RunSetupError({
      reason: `step ${t} has ${loader.order(0).length} training images, fewer than one batch ` +
        `of ${config.batchSize}`,
    }),
  );
};

/**
 * Trains the step's epochs beside `oldModel`; `resumed` is the checkpoint of
 * this step being resumed (its epochs done are skipped, its optimizer state
 * restored). The optimizer's arenas live in the caller's scope.
 */
export const trainStepEpochs = (
  step: StepContext,
  oldModel: DeepLabV3 | undefined,
  resumed: RunCheckpoint | undefined,
) =>
  Effect.gen(function* () {
    const { config, info, model, method, run, emit } = step;
    const t = info.step;
    const loader = yield* stepLoader(step.data, config, t);
    const epochs = epochsOf(config, t);
    const batches = loader.batchesPerEpoch;
    emit({
      type: "step-start",
      step: t,
      steps: info.steps,
      classes: info.current,
      ...(info.domains ? { cities: info.domains.current } : {}),
      trainImages: loader.order(0).length,
      epochs,
      batchesPerEpoch: batches,
      ...(t === 0 && config.step0 !== undefined ? { loadedFrom: config.step0 } : {}),
    });
    // One arena for the step's parameters: SGD and zeroing are one dispatch each.
    yield* model.packParameters();
    const groups = model.parameterGroups();
    const scope = yield* Effect.scope;
    const sgd = yield* makeSgd([
      { parameters: groups.backbone },
      { parameters: groups.head, lrMultiplier: config.headLrMultiplier },
    ], {
      momentum: config.momentum,
      nesterov: config.nesterov,
      weightDecay: config.weightDecay,
    }, scope);
    // A loaded step takes no optimizer step; its schedule only needs a valid length.
    let schedule = polySchedule(t === 0 ? config.lr : config.lrNext, Math.max(1, epochs * batches));
    let startEpoch = 0;
    if (resumed) {
      startEpoch = run.progress.epochsDone;
      schedule = { ...schedule, iteration: run.progress.iteration };
      if (resumed.optimizer) yield* sgd.importState(resumed.optimizer);
    } else {
      run.progress = { ...run.progress, step: t, epochsDone: 0, stepDone: false, iteration: 0 };
    }
    const parameters = model.parameters();
    const context = {
      info,
      model,
      oldModel,
      method,
      sgd,
      parameters,
      gradScope: scope,
      freezeBn: t > 0 && config.freezeBnNext,
    };
    for (let epoch = startEpoch; epoch < epochs; epoch++) {
      const epochStarted = performance.now();
      const stream = loader.epoch(epoch);
      const place = { step: t, epoch, epochs, batches, checkpoints: step.paths.dir };
      const trained = yield* trainEpoch(context, stream, schedule, place, emit).pipe(
        Effect.ensuring(Effect.sync(() => stream.close())),
      );
      schedule = trained.schedule;
      const seconds = (performance.now() - epochStarted) / 1000;
      emit({
        type: "epoch-end",
        step: t,
        epoch,
        epochs,
        loss: trained.lossSum / batches,
        seconds,
        imagesPerSecond: trained.images / seconds,
      });
      run.progress = { ...run.progress, epochsDone: epoch + 1, iteration: schedule.iteration };
      const methodState = method.exportState ? yield* method.exportState() : undefined;
      yield* writeStepCheckpoint(
        step,
        step.paths.last,
        "epoch",
        methodState,
        yield* sgd.exportState(),
        { step: t, epoch, epochs, batch: batches - 1, batches },
      );
    }
    for (const p of parameters) p.grad = undefined;
  });
