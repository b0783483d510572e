/**
 * The engine's view of the data: opens the configured dataset's training
 * and evaluation splits once, computes the class sets, and builds the
 * loaders of each step (MiB's filter and target LUT for training, the
 * evaluation LUT for testing).
 *
 * @module
 */
import { Data, Effect } from "effect";
import {
  computeClassSets,
  type Dataset,
  evalLut,
  filterImages,
  findTask,
  type Loader,
  openAde20k,
  openCityscapes,
  openVoc,
  type SampleRef,
  stepClasses,
  type Task,
  taskNames,
  trainTargetLut,
  writeSyntheticVoc,
} from "../data/index.ts";
import { hashSeed } from "../data/rng.ts";
import { createLoader } from "../data/loader.ts";
import type { RunConfig } from "./types.ts";

/** The run cannot start: a task or dataset problem, with the reason. */
export class RunSetupError extends Data.TaggedError("RunSetupError")<{
  readonly reason: string;
}> {
  override get message(): string {
    return this.reason;
  }
}

/** Task-registry prefix of each dataset option. */
const TASK_PREFIX = { synth: "synthetic", voc: "voc", ade: "ade20k", cityscapes: "cityscapes" };

/** Finds the run's class-incremental task, or fails listing the valid ones. */
export const resolveTask = (config: RunConfig): Effect.Effect<Task, RunSetupError> => {
  const prefix = TASK_PREFIX[config.dataset];
  const task = findTask(`${prefix}/${config.task}`);
  if (!task) {
    const valid = taskNames().filter((n) => n.startsWith(prefix + "/")).map((n) =>
      n.slice(prefix.length + 1)
    );
    return Effect.fail(
      new RunSetupError({
        reason: `unknown task ${config.task} for ${config.dataset}; valid: ${valid.join(", ")}`,
      }),
    );
  }
  if (task.kind !== "class") {
    return Effect.fail(
      new RunSetupError({
        reason: `${task.name} is domain-incremental; the step engine trains class-incremental ` +
          `tasks only`,
      }),
    );
  }
  return Effect.succeed(task);
};

/** Opens a split of the configured dataset. */
const openSplit = (config: RunConfig, split: string) => {
  const root = config.dataRoot;
  switch (config.dataset) {
    case "synth":
    case "voc":
      return openVoc({ root, split });
    case "ade":
      return openAde20k({ root, split });
    case "cityscapes":
      return openCityscapes({ root, split: split === "val" ? "val" : "train" });
  }
};

/** Writes the synthetic dataset when the configured root has none. */
export const ensureSynthetic = (config: RunConfig) =>
  Effect.gen(function* () {
    if (config.dataset !== "synth") return false;
    const list = `${config.dataRoot}/ImageSets/Segmentation/train.txt`;
    const exists = yield* Effect.promise(() => Deno.stat(list).then(() => true, () => false));
    if (exists) return false;
    yield* writeSyntheticVoc({ root: config.dataRoot });
    return true;
  });

/** The run's two splits with their class sets. */
export interface RunData {
  readonly task: Task & { kind: "class" };
  readonly train: Dataset;
  readonly trainClassSets: readonly (readonly number[])[];
  readonly trainSamples: readonly SampleRef[];
  readonly evaluation: Dataset;
}

/** Opens the data of a run (writing the synthetic set first when missing). */
export const openRunData = (config: RunConfig) =>
  Effect.gen(function* () {
    const task = (yield* resolveTask(config)) as Task & { kind: "class" };
    yield* ensureSynthetic(config);
    const trainSplit = config.dataset === "voc" ? "train_aug" : "train";
    const train = yield* openSplit(config, trainSplit);
    const sets = yield* computeClassSets(train);
    const evaluation = yield* openSplit(config, config.evalSplit);
    return {
      task,
      train,
      trainClassSets: sets.classSets,
      trainSamples: sets.samples,
      evaluation,
    } satisfies RunData;
  });

/** The training samples of step `t` (MiB's overlapped or disjoint filter). */
export const stepSamples = (data: RunData, config: RunConfig, t: number): SampleRef[] => {
  const classes = stepClasses(data.task, t);
  const kept = filterImages(
    data.trainClassSets,
    classes,
    config.overlap ? "overlapped" : "disjoint",
  );
  return kept.map((i) => data.trainSamples[i]);
};

/** The augmented training loader of step `t`. */
export const trainLoader = (data: RunData, config: RunConfig, t: number): Loader =>
  createLoader({
    samples: stepSamples(data, config, t),
    info: data.train.info,
    batchSize: config.batchSize,
    augment: { kind: "train", cropSize: config.crop },
    seed: hashSeed(config.seed, "train-step", t),
    labelLut: trainTargetLut(stepClasses(data.task, t)),
  });

/**
 * The step's training images without augmentation (centre crop at the
 * training crop), for the passes methods run before and after training.
 */
export const passLoader = (data: RunData, config: RunConfig, t: number): Loader =>
  createLoader({
    samples: stepSamples(data, config, t),
    info: data.train.info,
    batchSize: config.batchSize,
    augment: { kind: "eval", size: config.crop, mode: evalMode(config) },
    seed: config.seed,
    labelLut: trainTargetLut(stepClasses(data.task, t)),
  });

/** Synthetic images are already at the crop size; real ones are centre-cropped. */
const evalMode = (config: RunConfig) => config.dataset === "synth" ? "resize" : "centerCrop";

/** The evaluation loader after step `t`: classes not yet seen are ignored. */
export const evalLoader = (data: RunData, config: RunConfig, t: number): Loader =>
  createLoader({
    samples: data.evaluation.samples,
    info: data.evaluation.info,
    batchSize: config.batchSize,
    augment: { kind: "eval", size: config.crop, mode: evalMode(config) },
    seed: config.seed,
    labelLut: evalLut(stepClasses(data.task, t), data.evaluation.info.zeroIgnoredAtEval),
  });
