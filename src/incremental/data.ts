/**
 * The engine's view of the data: opens the configured dataset's training
 * and evaluation splits once, computes the class sets, and builds the
 * loaders of each step (MiB's filter and target LUT for training, the
 * evaluation LUT for testing). Before a run trains, every image and mask of
 * both splits is decoded and checked once (cached beside the lists), and
 * every step must hold at least one full batch, so bad data stops the run
 * before step 0 rather than in the middle of it. Domain tasks (Cityscapes'
 * cities) take their images as RCIL does (`domain.ts`); a joint run trains
 * its task's steps as one step on every training image (`joint.ts`).
 *
 * @module
 */
import { Effect } from "effect";
import {
  type Augment,
  computeClassSets,
  type Dataset,
  DEFAULT_SYNTHETIC_ROOT,
  evalLut,
  filterImages,
  findTask,
  type Loader,
  type SampleRef,
  stepClasses,
  SYNTHETIC_DEFAULT_COUNTS,
  type Task,
  taskNames,
  trainTargetLut,
  writeSyntheticVoc,
} from "../data/mod.ts";
import { hashSeed } from "../util/rng.ts";
import { createLoader } from "../data/loader.ts";
import { type LoaderPool, loaderWorkersFor, scopedLoaderPool } from "../data/loader_pool.ts";
import { RunSetupError } from "./setup_error.ts";
import { openEvalSplit, openSplit, openTrainSplit, scaleRangeOf, trainSplitOf } from "./splits.ts";
import { domainTestGroups, domainTrainSamples, isDomainTask } from "./domain.ts";
import { type ClassSplit, isJointRun, jointSplit, runTaskOf } from "./joint.ts";
import type { RunConfig } from "./types.ts";

export { RunSetupError };

/** Task-registry prefix of each dataset option. */
const TASK_PREFIX = { synth: "synthetic", voc: "voc", ade: "ade20k", cityscapes: "cityscapes" };

/**
 * The classes (or domains) of a run's step 0 as text, undefined for an unknown
 * task: runs whose tasks begin with the same step (15-5 and 15-1) can share it.
 */
export const firstStepKey = (config: Pick<RunConfig, "dataset" | "task">): string | undefined =>
  findTask(`${TASK_PREFIX[config.dataset]}/${config.task}`)?.steps[0].join(",");

/**
 * Every class (or domain) of a run's task in step order, undefined for an
 * unknown task: joint runs of tasks with the same classes train the same model.
 */
export const taskClassesOf = (
  config: Pick<RunConfig, "dataset" | "task">,
): (number | string)[] | undefined =>
  findTask(`${TASK_PREFIX[config.dataset]}/${config.task}`)?.steps.flat();

/**
 * The classes (or domains) each step of a run's task introduces, step 0
 * first; undefined for an unknown task.
 */
export const taskStepsOf = (
  config: Pick<RunConfig, "dataset" | "task">,
): readonly (readonly (number | string)[])[] | undefined =>
  findTask(`${TASK_PREFIX[config.dataset]}/${config.task}`)?.steps;

/** Finds the registered task of the run's dataset, or fails listing the valid ones. */
const registeredTask = (config: RunConfig): Effect.Effect<Task, RunSetupError> => {
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
  return Effect.succeed(task);
};

/** A joint run of a domain task: its steps are cities, so there is nothing to flatten. */
const jointDomainError = (config: RunConfig) =>
  new RunSetupError({
    reason: `--method joint: ${config.dataset} ${config.task} is a domain-incremental task ` +
      `(every step already learns every class); joint training flattens the steps of a ` +
      `class-incremental task`,
  });

/** The registered task and the one the run trains (a joint run's steps flattened into one). */
const runTasks = (config: RunConfig) =>
  Effect.flatMap(registeredTask(config), (registered) => {
    const task = runTaskOf(config, registered);
    return task ? Effect.succeed({ registered, task }) : Effect.fail(jointDomainError(config));
  });

/**
 * Finds the task the run trains (class- or domain-incremental; a joint run's
 * steps flattened into one), or fails listing the valid ones.
 */
export const resolveTask = (config: RunConfig): Effect.Effect<Task, RunSetupError> =>
  Effect.map(runTasks(config), ({ task }) => task);

const syntheticList = (config: RunConfig) => `${config.dataRoot}/ImageSets/Segmentation/train.txt`;

const exists = (path: string) =>
  Effect.promise(() => Deno.stat(path).then(() => true, () => false));

/**
 * The training images of the synthetic set described by `meta` (its
 * `synthetic.json`) when `root` is the default root and the set is the
 * benchmark written by an older version with fewer training images than
 * {@link SYNTHETIC_DEFAULT_COUNTS}; otherwise undefined (a set the user wrote
 * elsewhere or with other options is never touched).
 */
export const shortDefaultSet = (root: string, meta: unknown): number | undefined => {
  if (root !== DEFAULT_SYNTHETIC_ROOT || typeof meta !== "object" || meta === null) {
    return undefined;
  }
  const m = meta as Record<string, unknown>;
  const counts = m.counts as Record<string, unknown> | undefined;
  const isBenchmark = m.seed === 0 && m.size === 64 && m.jpegQuality === 90 &&
    m.voidBorder === true && (m.classSet ?? "benchmark") === "benchmark" &&
    counts?.val === SYNTHETIC_DEFAULT_COUNTS.val && counts?.test === SYNTHETIC_DEFAULT_COUNTS.test;
  const train = counts?.train;
  return isBenchmark && typeof train === "number" && train < SYNTHETIC_DEFAULT_COUNTS.train
    ? train
    : undefined;
};

const shortSetOf = (config: RunConfig) =>
  Effect.promise(() =>
    Deno.readTextFile(`${config.dataRoot}/synthetic.json`).then(
      (text) => shortDefaultSet(config.dataRoot, JSON.parse(text)),
      () => undefined,
    )
  );

/**
 * What a run will say before it writes the synthetic set (its root has none,
 * or holds the default set written with fewer training images by an older
 * version), or undefined when nothing is written. A root other than the
 * default is named as a possible typo, since a mistyped `--data-root` would
 * otherwise train on a freshly written set without a word.
 */
export const syntheticNotice = (config: RunConfig) =>
  Effect.gen(function* () {
    if (config.dataset !== "synth") return undefined;
    const { train, val, test } = SYNTHETIC_DEFAULT_COUNTS;
    if (yield* exists(syntheticList(config))) {
      const short = yield* shortSetOf(config);
      return short === undefined ? undefined : `${config.dataRoot} holds the benchmark with ` +
        `${short} training images; writing it again with ${train} (the ${short} come out the ` +
        `same, byte for byte)`;
    }
    const where = config.dataRoot === DEFAULT_SYNTHETIC_ROOT
      ? `the default --data-root ${config.dataRoot}`
      : `--data-root ${config.dataRoot} (not the default ${DEFAULT_SYNTHETIC_ROOT}; ` +
        `check the path if you meant an existing set)`;
    return `no synthetic set in ${where}: writing a new one there (${train} train, ${val} val, ` +
      `${test} test images)`;
  });

/**
 * Writes the synthetic dataset when the configured root has none, or when the
 * default root holds the benchmark with fewer training images than it now has
 * (image i of a split depends only on the seed and i, so the images already
 * there are rewritten byte for byte and the new ones added).
 */
export const ensureSynthetic = (config: RunConfig) =>
  Effect.gen(function* () {
    if (config.dataset !== "synth") return false;
    if ((yield* exists(syntheticList(config))) && (yield* shortSetOf(config)) === undefined) {
      return false;
    }
    yield* writeSyntheticVoc({ root: config.dataRoot });
    return true;
  });

/**
 * The run's two splits with their class sets. A domain task reads one
 * dataset, `trainval` (RCIL draws both its training and its test images from
 * all 21 cities): `train` and `evaluation` are then the same.
 */
export interface RunData {
  readonly task: Task;
  readonly train: Dataset;
  readonly trainClassSets: readonly (readonly number[])[];
  readonly trainSamples: readonly SampleRef[];
  readonly evaluation: Dataset;
  /**
   * A joint run: the old/new classes of its metrics, by the registered
   * task's first step (its own one step holds every class).
   */
  readonly split?: ClassSplit;
  /** Workers that build the run's batches (`GSC_LOADER_WORKERS`); absent: the main thread. */
  readonly pool?: LoaderPool;
}

/**
 * Opens the data of a run (writing the synthetic set first when missing).
 * For `train` (the default), every image and mask of the training split is
 * decoded and checked and every step must hold one full batch; `eval` (gsc
 * eval) checks the evaluation split only. The evaluation split's images are
 * checked in both; the checks are cached, so they cost a pass once.
 */
export const openRunData = (config: RunConfig, purpose: "train" | "eval" = "train") =>
  Effect.gen(function* () {
    const { registered, task } = yield* runTasks(config);
    yield* ensureSynthetic(config);
    const domain = isDomainTask(task);
    const train = domain ? yield* openSplit(config, "trainval") : yield* openTrainSplit(config);
    const sets = yield* computeClassSets(train, {
      validateImages: purpose === "train" || domain,
    });
    const evaluation = domain ? train : yield* openEvalSplit(config);
    if (!domain) yield* computeClassSets(evaluation, { validateImages: true });
    const data = {
      task,
      train,
      trainClassSets: sets.classSets,
      trainSamples: sets.samples,
      evaluation,
      ...(isJointRun(config) && registered.kind === "class"
        ? { split: jointSplit(registered) }
        : {}),
    } satisfies RunData;
    if (purpose === "train") yield* checkStepSizes(data, config);
    return data;
  });

/**
 * The run's data with loader workers that build its batches
 * (`loaderWorkersFor`: none for small training splits, `GSC_LOADER_WORKERS`
 * overrides), stopped when the enclosing scope closes.
 */
export const withLoaderWorkers = (data: RunData) =>
  Effect.gen(function* () {
    const workers = loaderWorkersFor(data.trainSamples.length);
    return workers > 0 ? { ...data, pool: yield* scopedLoaderPool(workers) } : data;
  });

/** Fails, naming `--batch-size`, unless every step has at least one full training batch. */
export const checkStepSizes = (data: RunData, config: RunConfig) => {
  const short: string[] = [];
  const task = data.task;
  for (let t = 0; t < task.steps.length; t++) {
    const images = stepSamples(data, config, t).length;
    if (images >= config.batchSize) continue;
    const what = isDomainTask(task)
      ? `domain step ${t} (cities ${task.steps[t].join(", ")})`
      : `step ${t} (classes ${stepClasses(task, t).current.join(", ")})`;
    short.push(`${what} has ${images}`);
  }
  if (short.length === 0) return Effect.void;
  const filter = isDomainTask(task)
    ? "RCIL's 80% of the cities' trainval images"
    : isJointRun(config)
    ? "every image"
    : `${config.overlap ? "overlapped" : "disjoint"} filter`;
  return Effect.fail(
    new RunSetupError({
      reason: `--batch-size ${config.batchSize}: every step needs at least one full batch of ` +
        `training images, but ${short.join(", ")} (${filter} of the ` +
        `${isDomainTask(task) ? "trainval" : trainSplitOf(config)} split); lower --batch-size ` +
        `or train on a larger split`,
    }),
  );
};

/**
 * The training samples of step `t` (MiB's overlapped or disjoint filter;
 * RCIL's on domains; a joint run's one step: every image of the split).
 */
export const stepSamples = (data: RunData, config: RunConfig, t: number): SampleRef[] => {
  if (isDomainTask(data.task)) return domainTrainSamples(data.task, data.trainSamples, t);
  if (isJointRun(config)) return [...data.trainSamples];
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
    ...(data.pool ? { pool: data.pool } : {}),
    samples: stepSamples(data, config, t),
    info: data.train.info,
    batchSize: config.batchSize,
    augment: { kind: "train", cropSize: config.crop, scaleRange: scaleRangeOf(config) },
    seed: hashSeed(config.seed, "train-step", t),
    labelLut: trainTargetLut(stepClasses(data.task, t)),
  });

/** The seed of step `t`'s passes: fresh augmentation draws, not those of training. */
export const passSeed = (config: RunConfig, t: number): number =>
  hashSeed(config.seed, "pass-step", t);

/**
 * The step's training images as the passes methods run before and after
 * training see them (PLOP's entropy thresholds, GSC's prototypes): PLOP
 * computes its thresholds over its training loader, so the pass uses the
 * training augmentation (random scale, crop, flip at `--crop`) and drops
 * the last incomplete batch, with draws of its own ({@link passSeed}) in
 * list order. Both passes of a step see the same batches.
 */
export const passLoader = (data: RunData, config: RunConfig, t: number): Loader =>
  createLoader({
    ...(data.pool ? { pool: data.pool } : {}),
    samples: stepSamples(data, config, t),
    info: data.train.info,
    batchSize: config.batchSize,
    augment: { kind: "train", cropSize: config.crop, scaleRange: scaleRangeOf(config) },
    seed: passSeed(config, t),
    shuffle: false,
    labelLut: trainTargetLut(stepClasses(data.task, t)),
  });

/**
 * How the evaluation split is read: the synthetic set at its fixed size
 * resized to `--crop` (its images are written at that size), batched;
 * real data at each image's own size, one image a batch (MiB's and PLOP's
 * default), or with `--crop-val` the reference codes' `crop_val` (shorter
 * side to `--crop`, centre crop), batched.
 */
export const evalPreprocessing = (
  config: RunConfig,
): { readonly augment: Augment; readonly batchSize: number } => {
  if (config.dataset === "synth") {
    return {
      augment: { kind: "eval", size: config.crop, mode: "resize" },
      batchSize: config.batchSize,
    };
  }
  if (config.cropVal) {
    return {
      augment: { kind: "eval", size: config.crop, mode: "resizeCenterCrop" },
      batchSize: config.batchSize,
    };
  }
  return { augment: { kind: "eval", mode: "full" }, batchSize: 1 };
};

/** The evaluation loader after step `t`: classes not yet seen are ignored. */
export const evalLoader = (
  data: RunData,
  config: RunConfig,
  t: number,
  samples: readonly SampleRef[] = data.evaluation.samples,
  name = `split ${config.evalSplit}`,
): Loader =>
  createLoader({
    ...(data.pool ? { pool: data.pool } : {}),
    name,
    samples: [...samples],
    info: data.evaluation.info,
    ...evalPreprocessing(config),
    seed: config.seed,
    labelLut: evalLut(stepClasses(data.task, t), data.evaluation.info.zeroIgnoredAtEval),
  });

/**
 * The loaders evaluated after step `t`: the evaluation split (one loader) on
 * a class task; on a domain task RCIL's test images of the seen cities, one
 * loader per step g <= t (the images of step g's cities), so the metrics can
 * say how the first step's cities fare.
 */
export const evalLoaders = (data: RunData, config: RunConfig, t: number): Loader[] => {
  const task = data.task;
  if (!isDomainTask(task)) return [evalLoader(data, config, t)];
  return domainTestGroups(task, data.trainSamples, t).map((samples, g) =>
    evalLoader(data, config, t, samples, `test images of domain step ${g}`)
  );
};
