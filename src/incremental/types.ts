/**
 * The shared vocabulary of an incremental run: its configuration, the
 * metrics of a step, and the events the engine reports while it runs. The
 * CLI builds a {@link RunConfig}, the engine consumes it, the report writer
 * reads {@link StepMetrics}.
 *
 * @module
 */
import type { NewLogitsMode } from "./losses/pod.ts";

/**
 * The methods a run can train with. `joint` is the upper bound, not an
 * incremental method: every class of the task in one step (see `joint.ts`).
 */
export const METHOD_NAMES = ["ft", "lwf", "ilt", "mib", "plop", "gsc", "joint"] as const;
/** A method name. */
export type MethodName = typeof METHOD_NAMES[number];

/** The datasets a run can read (`synth` is the built-in synthetic benchmark). */
export const DATASET_NAMES = ["synth", "voc", "ade", "cityscapes"] as const;
/** A dataset name. */
export type DatasetName = typeof DATASET_NAMES[number];

/** The backbones a run can build (`small` is the width-scaled CPU variant). */
export const BACKBONE_NAMES = ["small", "resnet18", "resnet34", "resnet50", "resnet101"] as const;
/** A backbone name. */
export type BackboneName = typeof BACKBONE_NAMES[number];

/**
 * GSC's switches and constants (see docs/gsc.md). GSC is PLOP (its POD, its
 * entropy pseudo labels and adaptive factor) plus the three parts switched
 * here; with all three off it is PLOP.
 */
export interface GscOptions {
  /** Step-aware gradient compensation (HFC's compressed, per-step gain). */
  readonly sgc: boolean;
  /** Soft-sharp semantic relation distillation (FISS's soft-label and entropy terms). */
  readonly ssrd: boolean;
  /** Prototypical pseudo re-labeling (PLOP's pseudo labels from the prototype-corrected posterior). */
  readonly ppr: boolean;
  /** PPR: temperature tau of the prototype softmax kappa = softmax(cos / tau). */
  readonly pprTau: number;
  /** PPR variant: FISS's quantile schedule of the thresholds (0.2, +0.1 an epoch, up to 0.8). */
  readonly pprQuantile: boolean;
  /** Prototypes: minimum pixels of a class to (re)compute its prototype. */
  readonly protoMinPixels: number;
  /** SGC: clamp range of the normalised per-pixel gain. */
  readonly sgcMin: number;
  readonly sgcMax: number;
  /** SGC variant: HFC's split, sqrt(1 - zeta) on the cross-entropy and zeta on POD and the soft labels. */
  readonly sgcSplit: boolean;
  /** SSRD: weight of FISS's soft-label term. */
  readonly lambdaSoft: number;
  /** SSRD: weight of FISS's entropy term. */
  readonly lambdaEntropy: number;
  /** SSRD: weight of FISS's class relation term (0: off; FISS uses 0.5). */
  readonly lambdaRelation: number;
}

/** Everything a run needs; written to the run directory as `config.json`. */
export interface RunConfig {
  readonly dataset: DatasetName;
  readonly dataRoot: string;
  /** Task name without the dataset prefix, e.g. `15-1`, `100-50`. */
  readonly task: string;
  /** Overlapped (true) or disjoint (false) image filter (a joint run filters nothing). */
  readonly overlap: boolean;
  readonly method: MethodName;
  readonly backbone: BackboneName;
  readonly outputStride: 8 | 16;
  /** Optional safetensors file with backbone (or whole-model) weights for step 0. */
  readonly pretrained?: string;
  /**
   * Optional finished step-0 checkpoint (`checkpoints/step-0.safetensors` of a
   * run of the same dataset, task, filter, backbone and output stride) used
   * instead of training step 0, as the research codes share one base model
   * between methods. The step is still evaluated and its method pass runs.
   */
  readonly step0?: string;
  /** Epochs of step 0 (a joint run's one step) and of every later step. */
  readonly epochs: number;
  readonly epochsNext: number;
  readonly batchSize: number;
  /** Training crop side in pixels. */
  readonly crop: number;
  /**
   * Range of the training augmentation's random scale; absent in runs written
   * before the option existed, which used the standard 0.5-2.0
   * ({@link scaleRangeOf}).
   */
  readonly scaleMin?: number;
  readonly scaleMax?: number;
  /** Learning rate of step 0 and of every later step. */
  readonly lr: number;
  readonly lrNext: number;
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  /** Learning-rate multiplier of the head (ASPP and classifier). */
  readonly headLrMultiplier: number;
  /** Freeze batch-norm statistics at steps > 0. */
  readonly freezeBnNext: boolean;
  readonly seed: number;
  /** The run directory. */
  readonly out: string;
  /** The split evaluated after each step (`test` on the synthetic set, `val` on real data). */
  readonly evalSplit: string;
  /**
   * The split trained on (`train_aug` on VOC, `train` elsewhere); absent in
   * runs written before the option existed, which trained on that default.
   */
  readonly trainSplit?: string;
  /**
   * Real data: evaluate centre crops at `crop` (MiB's and PLOP's
   * `crop_val`) instead of every full image at its own size, one a batch
   * (their default). Absent means off; the synthetic set ignores it.
   */
  readonly cropVal?: boolean;
  /** Validation images rendered as PNG strips after each step. */
  readonly strips: number;
  /** Method weights: LwF/ILT/MiB distillation weight, ILT feature weight, PLOP POD factor. */
  readonly kdWeight: number;
  readonly featureWeight: number;
  readonly podFactor: number;
  /**
   * PLOP's POD factor of the logits layer (`--pod-logits-factor`; PLOP and
   * GSC). Absent in runs written before the option, which used PLOP's 0.0005.
   */
  readonly podLogitsFactor?: number;
  /**
   * The new classes' logits in that layer (`--pod-new-logits`): summed into
   * background's (`sum`, PLOP's default; absent in older runs) or left out.
   */
  readonly podNewLogits?: NewLogitsMode;
  readonly gsc: GscOptions;
}

/** Metrics of the model after one step, on the evaluation split. */
export interface StepMetrics {
  readonly step: number;
  /** Classes seen up to this step (background included), ascending. */
  readonly seenClasses: readonly number[];
  /**
   * Classes of step 0 (background included); a joint run's one step: those
   * of the task's first step.
   */
  readonly oldClasses: readonly number[];
  /** Classes of steps 1..t; a joint run's one step: those of the task's later steps. */
  readonly newClasses: readonly number[];
  /** IoU per class index (length = total classes of the task); null where not seen or no ground truth. */
  readonly iou: readonly (number | null)[];
  /** mIoU over seen/old/new classes with ground truth (null when none). */
  readonly miouAll: number | null;
  readonly miouOld: number | null;
  readonly miouNew: number | null;
  /** Pixel accuracy over non-ignored pixels. */
  readonly pixelAccuracy: number;
  /** Images evaluated. */
  readonly images: number;
  /**
   * Pixels counted in the confusion matrix: every labelled pixel (not 255
   * after the step's evaluation labels) of every image, once. Absent in
   * metrics written before it was recorded.
   */
  readonly pixels?: number;
}

/** Progress the engine reports while a run goes. */
export type RunEvent =
  | {
    readonly type: "step-start";
    readonly step: number;
    readonly steps: number;
    readonly classes: readonly number[];
    /** A domain-incremental step's cities (its classes are then every class). */
    readonly cities?: readonly string[];
    readonly trainImages: number;
    readonly epochs: number;
    readonly batchesPerEpoch: number;
    /** The checkpoint the step's model was loaded from instead of trained (`step0`). */
    readonly loadedFrom?: string;
  }
  | {
    readonly type: "batch";
    readonly step: number;
    readonly epoch: number;
    readonly batch: number;
    readonly batches: number;
    readonly loss: number;
    readonly imagesPerSecond: number;
  }
  | {
    readonly type: "epoch-end";
    readonly step: number;
    readonly epoch: number;
    readonly epochs: number;
    readonly loss: number;
    readonly seconds: number;
    readonly imagesPerSecond: number;
  }
  | { readonly type: "eval-start"; readonly step: number; readonly images: number }
  | { readonly type: "step-end"; readonly step: number; readonly metrics: StepMetrics }
  | {
    readonly type: "resumed";
    readonly step: number;
    readonly epoch: number;
    readonly from: string;
  }
  | {
    /** The run directory's lock was left by a process that is gone; this run took it over. */
    readonly type: "stale-lock";
    readonly path: string;
    readonly pid: number;
    readonly hostname: string;
    readonly started: string;
  }
  | { readonly type: "run-end"; readonly reportPath: string; readonly seconds: number };
