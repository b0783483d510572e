/**
 * `gsc train`: the parser that turns a command line into a checked
 * {@link RunConfig} against the option table (`train_spec.ts`), filling
 * dataset- and method-dependent defaults.
 *
 * @module
 */
import { Result } from "effect";
import { findTask, taskNames } from "../data/tasks.ts";
import {
  BACKBONE_NAMES,
  DATASET_NAMES,
  type DatasetName,
  METHOD_NAMES,
  type MethodName,
  type RunConfig,
} from "../incremental/types.ts";
import {
  COMMON_DEFAULTS,
  DATASET_DEFAULTS,
  type DatasetDefaults,
  defaultOut,
  GSC_DEFAULTS,
  methodWeights,
} from "./defaults.ts";
import { NEW_LOGITS_MODES, PLOP_LOGITS_FACTOR } from "../incremental/losses/pod.ts";
import type { AdapterChoice } from "../gpu/device.ts";
import { readAdapter } from "./adapter_option.ts";
import { CliError, optionError } from "./errors.ts";
import { activationShape, fitError, WGPU_BINDING_CEILING } from "./fit.ts";
import { blockingFile, isDirectory, isFile } from "./files.ts";
import { OptionReader, readOptions } from "./spec.ts";
import { GSC_ONLY, TRAIN_OPTIONS, WEIGHT_USERS } from "./train_spec.ts";

/** What `gsc train` runs: the configuration plus the options that are not part of it. */
export interface TrainCommand {
  readonly config: RunConfig;
  /** Continue the run in `config.out` from its last checkpoint. */
  readonly resume: boolean;
  /** Print nothing while training. */
  readonly quiet: boolean;
  /** The WebGPU adapter to train on. */
  readonly adapter: AdapterChoice;
}

/** Task-registry prefix of each dataset option (`synth` reads the `synthetic/` splits). */
export const TASK_PREFIX: Readonly<Record<DatasetName, string>> = {
  synth: "synthetic",
  voc: "voc",
  ade: "ade20k",
  cityscapes: "cityscapes",
};

/** The task names a dataset accepts, without the prefix, in numeric order. */
export const validTasks = (dataset: DatasetName): string[] => {
  const prefix = `${TASK_PREFIX[dataset]}/`;
  return taskNames().filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length))
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
};

/** Resolves a task name (aliases to the canonical split: 15-5s is 15-1). */
const resolveTask = (dataset: DatasetName, name: string): Result.Result<string, CliError> => {
  const task = findTask(`${TASK_PREFIX[dataset]}/${name}`);
  if (task) return Result.succeed(task.name.slice(task.name.indexOf("/") + 1));
  return Result.fail(
    optionError(
      "--task",
      `unknown task '${name}' for dataset ${dataset}; valid: ${validTasks(dataset).join(", ")}`,
    ),
  );
};

/** The splits of the datasets whose readers know a fixed set (VOC reads any list name). */
const SPLIT_CHOICES: Readonly<Partial<Record<DatasetName, readonly string[]>>> = {
  synth: ["train", "val", "test"],
  ade: ["training", "validation", "train", "val"],
  cityscapes: ["train", "val", "trainval"],
};

/** Reads a split option: one of the dataset's splits, or any list name on VOC. */
const readSplit = (
  read: OptionReader,
  name: "train-split" | "eval-split",
  dataset: DatasetName,
  fallback: string,
) =>
  Result.gen(function* () {
    const choices = SPLIT_CHOICES[dataset];
    const split = choices === undefined
      ? read.text(name, fallback)
      : yield* read.choice(name, fallback, choices);
    if (!/^[\w.-]+$/.test(split)) {
      return yield* Result.fail(optionError(`--${name}`, `not a split name: '${split}'`));
    }
    return split;
  });

/**
 * Batch norm in training needs more than one value per channel, and ASPP's
 * image-pooling branch has one per image: batch 1 can only run where no
 * step trains batch-norm statistics (step 0 loaded, later steps frozen).
 */
const checkBatchSize = (read: OptionReader, batchSize: number, step0: string | undefined) =>
  batchSize > 1 || (step0 !== undefined && read.flag("freeze-bn-next"))
    ? Result.succeed(undefined)
    : Result.fail(
      optionError(
        "--batch-size",
        `must be >= 2, got ${batchSize}: batch norm in training needs more than one value per ` +
          `channel, and ASPP's image pooling has one per image (1 works only with --step0 and ` +
          `--freeze-bn-next, where no step trains batch-norm statistics)`,
      ),
    );

/** The run directory must be a directory or creatable as one. */
const checkOut = (out: string) => {
  const file = blockingFile(out);
  if (file === undefined) return Result.succeed(out);
  return Result.fail(
    optionError(
      "--out",
      file === out
        ? `'${out}' is a file, not a run directory; pass a directory (created when missing)`
        : `cannot create run directory '${out}': '${file}' is a file`,
    ),
  );
};

const checkOptionsApply = (read: OptionReader, method: MethodName) => {
  if (method !== "gsc") {
    const given = GSC_ONLY.find((name) => read.has(name));
    if (given) {
      return Result.fail(
        optionError(`--${given}`, `applies to --method gsc only (method is ${method})`),
      );
    }
  }
  for (const [name, users] of Object.entries(WEIGHT_USERS)) {
    if (read.has(name) && !users.includes(method)) {
      return Result.fail(
        optionError(
          `--${name}`,
          `applies to --method ${users.join("|")} only (method is ${method})`,
        ),
      );
    }
  }
  return Result.succeed(undefined);
};

const readGsc = (read: OptionReader) =>
  Result.gen(function* () {
    const d = GSC_DEFAULTS;
    const sgcMin = yield* read.number("sgc-min", d.sgcMin, { min: 0, minExclusive: true });
    const sgcMax = yield* read.number("sgc-max", d.sgcMax, { min: 0, minExclusive: true });
    if (sgcMax < sgcMin) {
      return yield* Result.fail(
        optionError("--sgc-max", `must be >= --sgc-min (${sgcMin}), got ${sgcMax}`),
      );
    }
    return {
      sgc: !read.flag("no-sgc"),
      ssrd: !read.flag("no-ssrd"),
      ppr: !read.flag("no-ppr"),
      pprTau: yield* read.number("ppr-tau", d.pprTau, { min: 0, minExclusive: true }),
      pprQuantile: read.flag("ppr-quantile"),
      protoMinPixels: yield* read.number("proto-min-pixels", d.protoMinPixels, {
        integer: true,
        min: 1,
      }),
      sgcMin,
      sgcMax,
      sgcSplit: read.flag("sgc-split"),
      lambdaSoft: yield* read.number("lambda-soft", d.lambdaSoft, { min: 0 }),
      lambdaEntropy: yield* read.number("lambda-entropy", d.lambdaEntropy, { min: 0 }),
      lambdaRelation: yield* read.number("lambda-relation", d.lambdaRelation, { min: 0 }),
    };
  });

/**
 * `--pretrained`: a file that must exist, `none` (from scratch), or when
 * absent the dataset's shipped weights for its default backbone (unless step 0
 * is loaded); a missing shipped file names the command that remakes it.
 */
export function readPretrained(
  read: OptionReader,
  d: DatasetDefaults,
  backbone: string,
  step0: string | undefined,
): Result.Result<string | undefined, CliError> {
  const given = read.text("pretrained");
  if (given === "none") return Result.succeed(undefined);
  if (given !== undefined) {
    return isFile(given)
      ? Result.succeed(given)
      : Result.fail(optionError("--pretrained", `file '${given}' not found`));
  }
  if (step0 !== undefined || d.pretrained === undefined || backbone !== d.backbone) {
    return Result.succeed(undefined);
  }
  return isFile(d.pretrained) ? Result.succeed(d.pretrained) : Result.fail(
    optionError(
      "--pretrained",
      `the shipped backbone '${d.pretrained}' is missing: run 'deno task pretrain' to remake ` +
        "it, or pass --pretrained none to train from scratch",
    ),
  );
}

/**
 * Parses `gsc train`'s options (the arguments after `train`). Fails with a
 * {@link CliError} naming the option on an unknown option (suggesting the
 * closest), an unknown task (listing the dataset's tasks), a value that is not
 * a number or out of range, a missing data root (real datasets) or pretrained
 * file, or an option the chosen method does not read.
 */
export function parseTrainOptions(argv: readonly string[]): Result.Result<TrainCommand, CliError> {
  return Result.gen(function* () {
    const read = new OptionReader(yield* readOptions(argv, TRAIN_OPTIONS));
    const dataset = yield* read.choice("dataset", "synth", DATASET_NAMES);
    const d = DATASET_DEFAULTS[dataset];
    const task = yield* resolveTask(dataset, read.text("task", d.task));
    if (read.flag("overlap") && read.flag("disjoint")) {
      return yield* Result.fail(
        new CliError({ option: "--disjoint", reason: "cannot be combined with --overlap" }),
      );
    }
    const overlap = !read.flag("disjoint");
    const method = yield* read.choice("method", COMMON_DEFAULTS.method, METHOD_NAMES);
    yield* checkOptionsApply(read, method);
    const backbone = yield* read.choice("backbone", d.backbone, BACKBONE_NAMES);
    const outputStride = Number(
      yield* read.choice("output-stride", String(d.outputStride) as "8" | "16", ["8", "16"]),
    ) as 8 | 16;

    const dataRoot = read.text("data-root", d.dataRoot);
    if (dataset !== "synth" && !isDirectory(dataRoot)) {
      return yield* Result.fail(
        optionError(
          "--data-root",
          `directory '${dataRoot}' not found; pass the folder holding the ${dataset} dataset`,
        ),
      );
    }
    const step0 = read.text("step0");
    const pretrained = yield* readPretrained(read, d, backbone, step0);

    if (step0 !== undefined && method === "joint") {
      return yield* Result.fail(
        optionError(
          "--step0",
          "has no meaning with --method joint: Joint trains every class of the task in one " +
            "step (the step-0 recipe: --epochs, --lr), so there is no step 0 to load",
        ),
      );
    }
    if (step0 !== undefined && !isFile(step0)) {
      return yield* Result.fail(optionError("--step0", `file '${step0}' not found`));
    }
    if (step0 !== undefined && pretrained !== undefined) {
      return yield* Result.fail(
        optionError("--step0", "--pretrained has no use when step 0 is loaded; pass one of them"),
      );
    }

    const positiveInteger = { integer: true, min: 1 };
    const positive = { min: 0, minExclusive: true };
    const epochs = yield* read.number("epochs", d.epochs, positiveInteger);
    const epochsNext = yield* read.number("epochs-next", d.epochsNext, positiveInteger);
    const batchSize = yield* read.number("batch-size", d.batchSize, positiveInteger);
    yield* checkBatchSize(read, batchSize, step0);
    const crop = yield* read.number("crop", d.crop, { integer: true, min: 16 });
    const scaleMin = yield* read.number("scale-min", d.scaleRange[0], positive);
    const scaleMax = yield* read.number("scale-max", d.scaleRange[1], { min: scaleMin });
    const classes = findTask(`${TASK_PREFIX[dataset]}/${task}`)!.steps.flat().length;
    const tooLarge = fitError(
      activationShape({ backbone, outputStride, batchSize, crop }, classes),
      WGPU_BINDING_CEILING,
      "any adapter binds under Deno's WebGPU",
    );
    if (tooLarge) return yield* Result.fail(tooLarge);
    const lr = yield* read.number("lr", d.lr, positive);
    const lrNext = yield* read.number("lr-next", d.lrNext, positive);
    const momentum = yield* read.number("momentum", COMMON_DEFAULTS.momentum, {
      min: 0,
      max: 1,
      maxExclusive: true,
    });
    const weightDecay = yield* read.number("weight-decay", COMMON_DEFAULTS.weightDecay, { min: 0 });
    const headLrMultiplier = yield* read.number(
      "head-lr-mult",
      COMMON_DEFAULTS.headLrMultiplier,
      positive,
    );
    const seed = yield* read.number("seed", COMMON_DEFAULTS.seed, {
      integer: true,
      min: 0,
      max: 2 ** 32 - 1,
    });
    const trainSplit = yield* readSplit(read, "train-split", dataset, d.trainSplit);
    const evalSplit = yield* readSplit(read, "eval-split", dataset, d.evalSplit);
    const strips = yield* read.number("strips", COMMON_DEFAULTS.strips, { integer: true, min: 0 });
    const cropVal = read.flag("crop-val");
    if (cropVal && dataset === "synth") {
      return yield* Result.fail(
        optionError(
          "--crop-val",
          "the synthetic set is evaluated at its fixed size; --crop-val is for voc, ade and " +
            "cityscapes",
        ),
      );
    }
    const weights = methodWeights(method, task);
    const config: RunConfig = {
      dataset,
      dataRoot,
      task,
      overlap,
      method,
      backbone,
      outputStride,
      ...(pretrained === undefined ? {} : { pretrained }),
      ...(step0 === undefined ? {} : { step0 }),
      epochs,
      epochsNext,
      batchSize,
      scaleMin,
      scaleMax,
      crop,
      lr,
      lrNext,
      momentum,
      nesterov: !read.flag("no-nesterov"),
      weightDecay,
      headLrMultiplier,
      freezeBnNext: read.flag("freeze-bn-next"),
      seed,
      out: yield* checkOut(read.text("out", defaultOut(dataset, task, overlap, method, seed))),
      evalSplit,
      trainSplit,
      ...(cropVal ? { cropVal } : {}),
      strips,
      kdWeight: yield* read.number("kd-weight", weights.kdWeight, { min: 0 }),
      featureWeight: yield* read.number("feature-weight", weights.featureWeight, { min: 0 }),
      podFactor: yield* read.number("pod-factor", weights.podFactor, { min: 0 }),
      podLogitsFactor: yield* read.number("pod-logits-factor", PLOP_LOGITS_FACTOR, { min: 0 }),
      podNewLogits: yield* read.choice("pod-new-logits", "sum", NEW_LOGITS_MODES),
      gsc: yield* readGsc(read),
    };
    return {
      config,
      resume: read.flag("resume"),
      quiet: read.flag("quiet"),
      adapter: yield* readAdapter(read),
    };
  });
}
