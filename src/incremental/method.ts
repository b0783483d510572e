/**
 * The one interface every incremental method implements. The engine runs
 * the models and the optimizer; a method only turns (batch, new outputs,
 * old outputs) into the step's targets, its loss terms and optional
 * per-pixel gradient weights, and may run passes over the step's data
 * before and after training (PLOP's thresholds, GSC's prototypes).
 *
 * @module
 */
import type { Effect } from "effect";
import type { Node } from "../autograd/tape.ts";
import type { GpuScoped } from "../autograd/tape.ts";
import type { Gpu } from "../gpu/device.ts";
import type { GpuError } from "../gpu/errors.ts";
import type { HostTensor } from "../optim/sgd.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { MethodName, RunConfig } from "./types.ts";

/** The old (frozen) model's outputs: plain tensors, no graph. */
export interface OldOutputs {
  /** [N, H, W, |C_{0:t-1}|] at the input size. */
  readonly logits: Tensor<"f32">;
  /** [N, h, w, |C_{0:t-1}|] before upsampling, at the output stride. */
  readonly smallLogits: Tensor<"f32">;
  /** [N, h, w, F] the classifier's input, at the output stride. */
  readonly features: Tensor<"f32">;
  /** Backbone stage outputs, layer1..layer4. */
  readonly stages: readonly Tensor<"f32">[];
}

/** The new model's outputs: graph nodes. */
export interface NewOutputs {
  /** [N, H, W, |C_{0:t}|] at the input size. */
  readonly logits: Node;
  /** [N, h, w, |C_{0:t}|] before upsampling, at the output stride. */
  readonly smallLogits: Node;
  readonly features: Node;
  readonly stages: readonly Node[];
}

/** One batch on the GPU: normalised NHWC images and the step's label map. */
export interface BatchInput {
  readonly images: Tensor<"f32">;
  /** [N, H, W] labels after the step's target LUT (old and future classes are 0). */
  readonly labels: Tensor<"i32">;
  readonly size: number;
  readonly height: number;
  readonly width: number;
}

/** Where a step stands: its classes and the run's configuration. */
export interface StepInfo {
  readonly step: number;
  readonly steps: number;
  /** |C_{0:t}|: the new model's channel count. */
  readonly seen: number;
  /** |C_{0:t-1}|: the old model's channel count (0 at step 0). */
  readonly old: number;
  /** Classes added at this step. */
  readonly current: readonly number[];
  /** Per class index < seen: the step that introduced it. */
  readonly classStep: Int32Array;
  /**
   * Whether the step's labels hide old and future classes as background 0
   * (class-incremental tasks). False on domain-incremental tasks: every label
   * is the pixel's true class (0 is a class, e.g. road), so nothing labelled
   * may be treated as background (no pseudo labels, no unbiased merging).
   * Absent means true.
   */
  readonly backgroundShift?: boolean;
  /** Domain-incremental tasks: the cities learned now and every city learned so far. */
  readonly domains?: {
    readonly current: readonly string[];
    readonly seen: readonly string[];
  };
  readonly config: RunConfig;
}

/** Whether a step's labels carry the background shift (see {@link StepInfo.backgroundShift}). */
export const hasBackgroundShift = (info: StepInfo): boolean => info.backgroundShift !== false;

/** A named, already weighted loss term ([1]). */
export interface LossTerm {
  readonly name: string;
  readonly value: Node;
}

/**
 * A classification loss a method trains with: its name (for logs and
 * tests) and how it builds the [1] node from the new logits, the targets
 * and the per-pixel weights.
 */
export interface ClassificationLoss {
  readonly name: string;
  readonly loss: (
    info: StepInfo,
    logits: Node,
    targets: Tensor<"i32">,
    weights: Tensor<"f32"> | undefined,
  ) => GpuScoped<Node>;
}

/** What a method asks of one training batch. */
export interface Objective {
  /** The targets the classification loss trains on. */
  readonly targets: Tensor<"i32">;
  /** Scales each pixel's classification gradient (SGC); 1 when absent. */
  readonly pixelWeights?: Tensor<"f32">;
  /** The classification loss (plain cross-entropy, MiB's unbiased one ...). */
  readonly classification: ClassificationLoss;
  /** Multiplies the classification loss ([1]; PLOP's adaptive factor). */
  readonly classificationScale?: Tensor<"f32">;
  /** Every other loss term (distillation ...). */
  readonly terms: readonly LossTerm[];
}

/** One pass over the step's training images with the training augmentation (as PLOP's). */
export interface DataPass {
  /** Calls `visit` for every batch with the old model's outputs (eval mode). */
  readonly withOldModel: (
    visit: (batch: BatchInput, old: OldOutputs) => GpuScoped<void>,
  ) => Effect.Effect<void, unknown, Gpu>;
  /** Calls `visit` with both models' outputs (both in eval mode; new outputs as nodes). */
  readonly withBothModels: (
    visit: (batch: BatchInput, current: NewOutputs, old: OldOutputs | undefined) => GpuScoped<void>,
  ) => Effect.Effect<void, unknown, Gpu>;
}

/** Method state saved in checkpoints (host data only). */
export interface MethodState {
  readonly tensors: Readonly<Record<string, HostTensor>>;
  readonly json: unknown;
}

/** An incremental method. */
export interface Method {
  readonly name: MethodName;
  /** Whether the old model must run on each training batch at steps > 0. */
  readonly usesOldModel: boolean;
  /** Runs before training a step > 0 (e.g. PLOP's entropy thresholds). */
  readonly beginStep?: (info: StepInfo, data: DataPass) => Effect.Effect<void, unknown, Gpu>;
  /** The step's objective for one batch. `old` is undefined at step 0. */
  readonly objective: (
    info: StepInfo,
    batch: BatchInput,
    current: NewOutputs,
    old: OldOutputs | undefined,
  ) => GpuScoped<Objective>;
  /** Runs after training a step with the final model (e.g. GSC's prototypes). */
  readonly endStep?: (info: StepInfo, data: DataPass) => Effect.Effect<void, unknown, Gpu>;
  /** State that outlives a step, for checkpoints. */
  readonly exportState?: () => Effect.Effect<MethodState, GpuError, Gpu>;
  readonly importState?: (state: MethodState) => Effect.Effect<void, GpuError, Gpu>;
}

/** Converts a config and step into the per-class step table. */
export const classStepTable = (steps: readonly (readonly number[])[], t: number): Int32Array => {
  const seen = steps.slice(0, t + 1).reduce((n, s) => n + s.length, 0);
  const table = new Int32Array(seen);
  steps.slice(0, t + 1).forEach((classes, k) => {
    for (const c of classes) table[c] = k;
  });
  return table;
};
