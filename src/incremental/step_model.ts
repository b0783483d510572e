/**
 * The first phase of a step: the model it trains. On the run's first step
 * the model is built and its weights come from the checkpoint being resumed,
 * step t-1's checkpoint, a shared step 0 (`--step0`) or pretrained weights;
 * later steps keep the model of the step before. The classifier then grows
 * to the step's classes.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { type DeepLabV3, makeDeepLabV3 } from "../nn/mod.ts";
import { loadPretrained } from "../nn/load_weights.ts";
import { hashSeed } from "../util/rng.ts";
import { firstStepKey, RunSetupError } from "./data.ts";
import { isJointRun } from "./joint.ts";
import type { Method, StepInfo } from "./method.ts";
import { modelConfigFor } from "./model_config.ts";
import { type checkpointPaths, readRunCheckpoint, type RunCheckpoint } from "./run_state.ts";
import type { RunConfig } from "./types.ts";

/** The keys of `config` whose values differ in the checkpoint's saved configuration. */
const differingKeys = (
  saved: RunConfig | undefined,
  config: RunConfig,
  keys: readonly (keyof RunConfig)[],
) => keys.filter((k) => JSON.stringify(saved?.[k]) !== JSON.stringify(config[k]));

/**
 * Checks that a `step0` checkpoint is a finished step 0 of a run this run can
 * share. A joint run has no step 0 to share: it neither loads one nor lends
 * its one step (every class) as another run's step 0.
 */
const checkStep0 = (config: RunConfig, checkpoint: RunCheckpoint) => {
  const meta = checkpoint.meta;
  if (isJointRun(config)) {
    return Effect.fail(
      new RunSetupError({
        reason: `--step0 has no meaning with --method joint: a joint run trains every class ` +
          `in its one step`,
      }),
    );
  }
  if (meta?.config !== undefined && isJointRun(meta.config)) {
    return Effect.fail(
      new RunSetupError({
        reason: `${checkpoint.path} is a joint run's checkpoint (every class in one step), ` +
          `not a step 0 to share (pass an incremental run's checkpoints/step-0.safetensors)`,
      }),
    );
  }
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
    "overlap",
    "backbone",
    "outputStride",
  ]).map((k) => `${k} (${meta.config[k]}, here ${config[k]})`);
  // Tasks that begin with the same step (15-5 and 15-1: classes 0..15) share step 0.
  const savedFirst = firstStepKey(meta.config);
  if (savedFirst === undefined || savedFirst !== firstStepKey(config)) {
    differing.push(`first step (task ${meta.config.task}, here ${config.task})`);
  }
  return differing.length === 0 ? Effect.void : Effect.fail(
    new RunSetupError({
      reason:
        `${checkpoint.path} was trained with a different ${
          differing.join(", ")
        }; step 0 can only be shared between runs whose tasks begin with the same step, on the ` +
        `same model`,
    }),
  );
};

/** What choosing a step's model needs. */
export interface StepModelInput {
  readonly config: RunConfig;
  readonly info: StepInfo;
  readonly method: Method;
  readonly paths: ReturnType<typeof checkpointPaths>;
  /** The model of the step before, or undefined on the run's first step. */
  readonly previous: DeepLabV3 | undefined;
  /** The checkpoint being resumed in the middle of this step. */
  readonly resumed: RunCheckpoint | undefined;
  /** Owns the model's weights (the whole run). */
  readonly runScope: Scope.Scope;
}

/** The model step `info.step` trains, with the method's state restored where it was saved. */
export const prepareStepModel = (input: StepModelInput) =>
  Effect.gen(function* () {
    const { config, info, method, paths, resumed } = input;
    const t = info.step;
    let model = input.previous;
    if (model === undefined) {
      const rows = resumed || t === 0 ? info.seen : info.old;
      model = yield* makeDeepLabV3(modelConfigFor(config, rows), {
        seed: hashSeed(config.seed, "init"),
        scope: input.runScope,
      });
      if (resumed) yield* resumed.loadInto(model);
      else if (t > 0) {
        const previous = yield* readRunCheckpoint(paths.step(t - 1));
        yield* previous.loadInto(model);
        if (method.importState) yield* method.importState(previous.method);
      } else if (config.step0) {
        const base = yield* readRunCheckpoint(config.step0);
        yield* checkStep0(config, base);
        yield* base.loadInto(model);
      } else if (config.pretrained) yield* loadPretrained(model, config.pretrained);
      if (resumed && method.importState) yield* method.importState(resumed.method);
    }
    if (t > 0 && !resumed && model.numClasses < info.seen) {
      yield* model.growClassifier(info.seen - model.numClasses);
    }
    return model;
  });
