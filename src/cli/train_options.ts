/**
 * `gsc train`: its option table and the parser that turns a command line into
 * a checked {@link RunConfig}, filling dataset- and method-dependent defaults.
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
import { CliError, optionError } from "./errors.ts";
import { activationShape, fitError, WGPU_BINDING_CEILING } from "./fit.ts";
import { blockingFile, isDirectory, isFile } from "./files.ts";
import { OptionReader, type OptionSpec, readOptions } from "./spec.ts";

/** What `gsc train` runs: the configuration plus the options that are not part of it. */
export interface TrainCommand {
  readonly config: RunConfig;
  /** Continue the run in `config.out` from its last checkpoint. */
  readonly resume: boolean;
  /** Print nothing while training. */
  readonly quiet: boolean;
}

/** The default of an option per dataset, or one value when all agree. */
const perDataset = (pick: (d: DatasetDefaults) => string | number): string => {
  const values = DATASET_NAMES.map((name) => String(pick(DATASET_DEFAULTS[name])));
  return values.every((v) => v === values[0])
    ? values[0]
    : DATASET_NAMES.map((name, i) => `${name} ${values[i]}`).join(", ");
};

/** The options that only GSC reads. */
const GSC_ONLY = [
  "no-sgc",
  "no-ssrd",
  "no-ppr",
  "ppr-tau",
  "ppr-theta",
  "proto-min-pixels",
  "sgc-min",
  "sgc-max",
  "t-soft",
  "t-sharp",
  "lambda-soft",
  "lambda-sharp",
] as const;

/** The baselines' weights and the methods that read them. */
const WEIGHT_USERS: Readonly<Record<string, readonly MethodName[]>> = {
  "kd-weight": ["lwf", "ilt", "mib"],
  "feature-weight": ["ilt"],
  "pod-factor": ["plop"],
};

/** Every option of `gsc train`, in help order. */
export const TRAIN_OPTIONS: readonly OptionSpec[] = [
  { name: "dataset", value: "NAME", description: DATASET_NAMES.join("|"), defaultText: "synth" },
  {
    name: "data-root",
    value: "DIR",
    description: "dataset folder (synth: written when missing)",
    defaultText: perDataset((d) => d.dataRoot),
  },
  {
    name: "task",
    value: "X-Y",
    description: "task split, e.g. 15-1, 100-50 (without the dataset prefix)",
    defaultText: perDataset((d) => d.task),
  },
  { name: "overlap", description: "overlapped setting (MiB's filter)", defaultText: "on" },
  {
    name: "disjoint",
    description: "disjoint setting: no future class visible",
    defaultText: "off",
  },
  {
    name: "method",
    value: "NAME",
    description: METHOD_NAMES.join("|"),
    defaultText: COMMON_DEFAULTS.method,
  },
  {
    name: "backbone",
    value: "NAME",
    description: BACKBONE_NAMES.join("|"),
    defaultText: perDataset((d) => d.backbone),
  },
  {
    name: "output-stride",
    value: "8|16",
    description: "backbone output stride",
    defaultText: perDataset((d) => d.outputStride),
  },
  {
    name: "pretrained",
    value: "FILE",
    description: "safetensors weights (backbone or whole model) for step 0",
    defaultText: "none",
  },
  {
    name: "step0",
    value: "FILE",
    description:
      "a finished run's checkpoints/step-0.safetensors, used instead of training step 0 " +
      "(same dataset, task, filter, backbone, output stride)",
    defaultText: "none",
  },
  {
    name: "epochs",
    value: "N",
    description: "epochs of step 0",
    defaultText: perDataset((d) => d.epochs),
  },
  {
    name: "epochs-next",
    value: "N",
    description: "epochs of every later step",
    defaultText: perDataset((d) => d.epochsNext),
  },
  {
    name: "batch-size",
    value: "N",
    description: "images per batch",
    defaultText: perDataset((d) => d.batchSize),
  },
  {
    name: "crop",
    value: "PX",
    description: "training crop side (>= 16)",
    defaultText: perDataset((d) => d.crop),
  },
  {
    name: "lr",
    value: "X",
    description: "learning rate of step 0",
    defaultText: perDataset((d) => d.lr),
  },
  {
    name: "lr-next",
    value: "X",
    description: "learning rate of later steps",
    defaultText: perDataset((d) => d.lrNext),
  },
  {
    name: "momentum",
    value: "X",
    description: "SGD momentum",
    defaultText: String(COMMON_DEFAULTS.momentum),
  },
  { name: "no-nesterov", description: "plain instead of Nesterov momentum", defaultText: "off" },
  {
    name: "weight-decay",
    value: "X",
    description: "SGD weight decay",
    defaultText: String(COMMON_DEFAULTS.weightDecay),
  },
  {
    name: "head-lr-mult",
    value: "X",
    description: "learning-rate multiplier of ASPP and classifier",
    defaultText: String(COMMON_DEFAULTS.headLrMultiplier),
  },
  {
    name: "freeze-bn-next",
    description: "freeze batch-norm statistics at steps > 0",
    defaultText: "off",
  },
  {
    name: "seed",
    value: "N",
    description: "seed of initialisation, shuffling and augmentation",
    defaultText: "0",
  },
  {
    name: "out",
    value: "DIR",
    description: "run directory",
    defaultText: "runs/<dataset>-<task>-<overlap|disjoint>-<method>-s<seed>",
  },
  {
    name: "train-split",
    value: "NAME",
    description: "split trained on (voc without SBD: train)",
    defaultText: perDataset((d) => d.trainSplit),
  },
  {
    name: "eval-split",
    value: "NAME",
    description: "split evaluated after every step",
    defaultText: perDataset((d) => d.evalSplit),
  },
  {
    name: "crop-val",
    description: "real data: evaluate centre crops at --crop, batched (MiB/PLOP crop_val), " +
      "instead of every full image at its own size, one a batch",
    defaultText: "off",
  },
  {
    name: "strips",
    value: "N",
    description: "evaluation images drawn as PNG strips per step",
    defaultText: String(COMMON_DEFAULTS.strips),
  },
  {
    name: "kd-weight",
    value: "X",
    description: "distillation weight (lwf, ilt, mib)",
    defaultText: "lwf 100, ilt 100, mib 10 (100 on 15-1)",
  },
  {
    name: "feature-weight",
    value: "X",
    description: "encoder-feature distance weight (ilt)",
    defaultText: "100",
  },
  {
    name: "pod-factor",
    value: "X",
    description: "POD distillation factor (plop)",
    defaultText: "0.01",
  },
  { name: "no-sgc", description: "gsc: no step-aware gradient compensation", defaultText: "off" },
  { name: "no-ssrd", description: "gsc: no soft-sharp relation distillation", defaultText: "off" },
  { name: "no-ppr", description: "gsc: no prototypical pseudo re-labeling", defaultText: "off" },
  {
    name: "ppr-tau",
    value: "X",
    description: "gsc: temperature of the prototype softmax (> 0)",
    defaultText: String(GSC_DEFAULTS.pprTau),
  },
  {
    name: "ppr-theta",
    value: "X",
    description: "gsc: minimum fused score to relabel, in [0, 1]",
    defaultText: String(GSC_DEFAULTS.pprTheta),
  },
  {
    name: "proto-min-pixels",
    value: "N",
    description: "gsc: pixels a class needs to (re)compute its prototype",
    defaultText: String(GSC_DEFAULTS.protoMinPixels),
  },
  {
    name: "sgc-min",
    value: "X",
    description: "gsc: lower clip of the per-pixel gradient weights",
    defaultText: String(GSC_DEFAULTS.sgcMin),
  },
  {
    name: "sgc-max",
    value: "X",
    description: "gsc: upper clip of the per-pixel gradient weights",
    defaultText: GSC_DEFAULTS.sgcMax.toFixed(1),
  },
  {
    name: "t-soft",
    value: "X",
    description: "gsc: temperature of the class-level relation term",
    defaultText: String(GSC_DEFAULTS.tSoft),
  },
  {
    name: "t-sharp",
    value: "X",
    description: "gsc: temperature of the pixel-level (sharpened) term",
    defaultText: String(GSC_DEFAULTS.tSharp),
  },
  {
    name: "lambda-soft",
    value: "X",
    description: "gsc: weight of the class-level relation term",
    defaultText: String(GSC_DEFAULTS.lambdaSoft),
  },
  {
    name: "lambda-sharp",
    value: "X",
    description: "gsc: weight of the pixel-level term",
    defaultText: String(GSC_DEFAULTS.lambdaSharp),
  },
  {
    name: "resume",
    description: "continue the run in --out from its last checkpoint",
    defaultText: "off",
  },
  { name: "quiet", description: "print nothing while training", defaultText: "off" },
  { name: "help", description: "show this help" },
];

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
      pprTheta: yield* read.number("ppr-theta", d.pprTheta, { min: 0, max: 1 }),
      protoMinPixels: yield* read.number("proto-min-pixels", d.protoMinPixels, {
        integer: true,
        min: 1,
      }),
      sgcMin,
      sgcMax,
      tSoft: yield* read.number("t-soft", d.tSoft, { min: 0, minExclusive: true }),
      tSharp: yield* read.number("t-sharp", d.tSharp, { min: 0, minExclusive: true }),
      lambdaSoft: yield* read.number("lambda-soft", d.lambdaSoft, { min: 0 }),
      lambdaSharp: yield* read.number("lambda-sharp", d.lambdaSharp, { min: 0 }),
    };
  });

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
    const pretrained = read.text("pretrained");
    if (pretrained !== undefined && !isFile(pretrained)) {
      return yield* Result.fail(optionError("--pretrained", `file '${pretrained}' not found`));
    }

    const step0 = read.text("step0");
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
      gsc: yield* readGsc(read),
    };
    return { config, resume: read.flag("resume"), quiet: read.flag("quiet") };
  });
}
