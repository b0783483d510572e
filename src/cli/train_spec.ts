/**
 * The option table of `gsc train`: every option in help order, with its
 * argument, description and default (per dataset where they differ).
 * `train_options.ts` parses a command line against it.
 *
 * @module
 */
import {
  BACKBONE_NAMES,
  DATASET_NAMES,
  METHOD_NAMES,
  type MethodName,
} from "../incremental/types.ts";
import {
  COMMON_DEFAULTS,
  DATASET_DEFAULTS,
  type DatasetDefaults,
  GSC_DEFAULTS,
} from "./defaults.ts";
import { ADAPTER_OPTION } from "./adapter_option.ts";
import type { OptionSpec } from "./spec.ts";

/** The default of an option per dataset, or one value when all agree. */
const perDataset = (pick: (d: DatasetDefaults) => string | number): string => {
  const values = DATASET_NAMES.map((name) => String(pick(DATASET_DEFAULTS[name])));
  return values.every((v) => v === values[0])
    ? values[0]
    : DATASET_NAMES.map((name, i) => `${name} ${values[i]}`).join(", ");
};

/** The options that only GSC reads. */
export const GSC_ONLY = [
  "no-sgc",
  "no-ssrd",
  "no-ppr",
  "ppr-tau",
  "ppr-quantile",
  "proto-min-pixels",
  "sgc-min",
  "sgc-max",
  "sgc-split",
  "lambda-soft",
  "lambda-entropy",
  "lambda-relation",
] as const;

/** The baselines' weights and the methods that read them. */
export const WEIGHT_USERS: Readonly<Record<string, readonly MethodName[]>> = {
  "kd-weight": ["lwf", "ilt", "mib"],
  "feature-weight": ["ilt"],
  "pod-factor": ["plop", "gsc"],
  "pod-logits-factor": ["plop", "gsc"],
  "pod-new-logits": ["plop", "gsc"],
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
    description: `${METHOD_NAMES.join("|")} (joint: the upper bound, every class of the task ` +
      `in one step with plain cross-entropy on every training image, for --epochs at --lr, ` +
      `the step-0 recipe)`,
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
    description: "safetensors weights (backbone or whole model) for step 0; none: from scratch",
    defaultText: perDataset((d) => d.pretrained ?? "none"),
  },
  {
    name: "step0",
    value: "FILE",
    description:
      "a finished run's checkpoints/step-0.safetensors, used instead of training step 0 " +
      "(same dataset, task, filter, backbone, output stride; not with --method joint)",
    defaultText: "none",
  },
  {
    name: "epochs",
    value: "N",
    description: "epochs of step 0 (joint: of its one step over every class)",
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
    name: "scale-min",
    value: "X",
    description: "smallest random scale of training augmentation",
    defaultText: perDataset((d) => d.scaleRange[0]),
  },
  {
    name: "scale-max",
    value: "X",
    description: "largest random scale of training augmentation",
    defaultText: perDataset((d) => d.scaleRange[1]),
  },
  {
    name: "lr",
    value: "X",
    description: "learning rate of step 0 (joint: of its one step)",
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
    description: "POD distillation factor (plop, gsc)",
    defaultText: "0.01",
  },
  {
    name: "pod-logits-factor",
    value: "X",
    description: "POD factor of the logits layer (plop, gsc)",
    defaultText: "0.0005",
  },
  {
    name: "pod-new-logits",
    value: "sum|trim",
    description:
      "new classes' logits in that layer: summed into background, or left out (plop, gsc)",
    defaultText: "sum",
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
    name: "ppr-quantile",
    description: "gsc: FISS's quantile schedule of the pseudo-label thresholds",
    defaultText: "off (PLOP's median)",
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
    description: "gsc: lower clamp of the normalised gradient gain",
    defaultText: String(GSC_DEFAULTS.sgcMin),
  },
  {
    name: "sgc-max",
    value: "X",
    description: "gsc: upper clamp of the normalised gradient gain",
    defaultText: String(GSC_DEFAULTS.sgcMax),
  },
  {
    name: "sgc-split",
    description: "gsc: HFC's split, sqrt(1 - zeta) on the CE, zeta on POD and soft labels",
    defaultText: "off",
  },
  {
    name: "lambda-soft",
    value: "X",
    description: "gsc: weight of the soft-label term",
    defaultText: String(GSC_DEFAULTS.lambdaSoft),
  },
  {
    name: "lambda-entropy",
    value: "X",
    description: "gsc: weight of the entropy term",
    defaultText: String(GSC_DEFAULTS.lambdaEntropy),
  },
  {
    name: "lambda-relation",
    value: "X",
    description: "gsc: weight of FISS's class relation term (FISS: 0.5)",
    defaultText: "0 (off)",
  },
  {
    name: "resume",
    description: "continue the run in --out from its last checkpoint",
    defaultText: "off",
  },
  { name: "quiet", description: "print nothing while training", defaultText: "off" },
  ADAPTER_OPTION,
  { name: "help", description: "show this help" },
];
