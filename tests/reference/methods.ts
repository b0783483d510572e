/**
 * Float64 compositions of the incremental methods' objectives
 * (src/incremental/methods/): what each method trains on for one batch,
 * its targets, per-pixel weights, every loss part's value and the gradient
 * of each part with respect to the new model's logits, features and stages,
 * built only from the references beside this module (cross-entropy,
 * unbiased cross-entropy, the distillations, local POD, PLOP's pseudo
 * labels; GSC's objective is in gsc_objective.ts). Used by the tests only.
 *
 * Layout: logits [pixels, channels] row-major (NHWC flattened); feature
 * maps NHWC with their shape given.
 *
 * @module
 */
import { crossEntropyBackwardReference, crossEntropyReference } from "./loss.ts";
import {
  distillationBackwardReference,
  featureDistillationReference,
  knowledgeDistillationReference,
  unbiasedCrossEntropyBackwardReference,
  unbiasedCrossEntropyReference,
  unbiasedDistillationReference,
} from "./incremental.ts";
import {
  collapseNewLogitsReference,
  featureDistillationBackwardReference,
  localPodBackwardReference,
  localPodReference,
  type Nhwc,
  plopPseudoLabelsReference,
} from "./plop.ts";

/** Where a step stands, as the engine's StepInfo counts it. */
export interface StepReference {
  readonly step: number;
  /** |C_{0:t}|: the new model's channels. */
  readonly seen: number;
  /** |C_{0:t-1}|: the old model's channels (0 at step 0). */
  readonly old: number;
  /** |C_t|: the classes added at this step. */
  readonly added: number;
  /** Per class index < seen: the step that introduced it. */
  readonly classStep: ArrayLike<number>;
}

/** One batch's labels [n, h, w]. */
export interface BatchReference {
  readonly labels: ArrayLike<number>;
  readonly n: number;
  readonly h: number;
  readonly w: number;
}

/** A model's outputs on the batch: logits at the label size, features and stages at theirs. */
export interface OutputsReference {
  readonly logits: ArrayLike<number>;
  readonly features: ArrayLike<number>;
  readonly featureShape: Nhwc;
  readonly stages: readonly ArrayLike<number>[];
  readonly stageShapes: readonly Nhwc[];
  /** The logits before upsampling and their shape, when the fixture gives them (PLOP's POD). */
  readonly smallLogits?: ArrayLike<number>;
  readonly smallLogitsShape?: Nhwc;
}

/** One loss part: its value and its gradient with respect to the new outputs. */
export interface PartReference {
  readonly value: number;
  readonly logits: number[];
  readonly features: number[];
  readonly stages: number[][];
  /** Gradient with respect to the logits before upsampling (empty when the fixture has none). */
  readonly smallLogits: number[];
}

/** A method's objective on one batch. */
export interface ObjectiveReference {
  readonly targets: number[];
  readonly pixelWeights?: number[];
  readonly classification: ClassificationName;
  /** The classification loss and, by name, every other term. */
  readonly parts: Readonly<Record<string, PartReference>>;
  /** The term names in the method's order (the classification part not included). */
  readonly terms: readonly string[];
  /** Everything summed: the engine's total loss and its gradients. */
  readonly total: PartReference;
}

const zeros = (n: number) => new Array<number>(n).fill(0);

/** A part of value `value` with zero gradients shaped like `current`'s outputs. */
export const emptyPart = (current: OutputsReference, value: number): PartReference => ({
  value,
  logits: zeros(current.logits.length),
  features: zeros(current.features.length),
  stages: current.stages.map((s) => zeros(s.length)),
  smallLogits: zeros(current.smallLogits?.length ?? 0),
});

/** `part` times `k`, value and gradients. */
export const scaled = (part: PartReference, k: number): PartReference => ({
  value: k * part.value,
  logits: part.logits.map((g) => k * g),
  features: part.features.map((g) => k * g),
  stages: part.stages.map((s) => s.map((g) => k * g)),
  smallLogits: part.smallLogits.map((g) => k * g),
});

/** The sum of two parts, value and gradients. */
export const sum = (a: PartReference, b: PartReference): PartReference => ({
  value: a.value + b.value,
  logits: a.logits.map((g, i) => g + b.logits[i]),
  features: a.features.map((g, i) => g + b.features[i]),
  stages: a.stages.map((s, l) => s.map((g, i) => g + b.stages[l][i])),
  smallLogits: a.smallLogits.map((g, i) => g + b.smallLogits[i]),
});

/** The classification losses by the name an objective reports (classification.ts). */
export type ClassificationName = "ce" | "unbiased-ce" | "ce-mean-all";

/**
 * The engine's classification loss (train_batch.ts `classificationLoss`):
 * the unbiased cross-entropy when asked and there are old classes, plain
 * cross-entropy otherwise; both mean over the valid pixels, weighted, except
 * PLOP's "ce-mean-all", whose mean runs over every pixel.
 */
export const classificationReference = (
  info: StepReference,
  current: OutputsReference,
  targets: ArrayLike<number>,
  classification: ClassificationName,
  weights?: ArrayLike<number>,
): PartReference => {
  const z = current.logits;
  if (classification === "unbiased-ce" && info.old > 0) {
    const options = { weights };
    return {
      ...emptyPart(current, 0),
      value: unbiasedCrossEntropyReference(z, targets, info.seen, info.old, options).loss,
      logits: unbiasedCrossEntropyBackwardReference(z, targets, info.seen, info.old, options),
    };
  }
  const meanOver = classification === "ce-mean-all" ? "all" : "valid";
  return {
    ...emptyPart(current, 0),
    value: crossEntropyReference(z, targets, info.seen, { weights, meanOver }).loss[0],
    logits: crossEntropyBackwardReference(z, targets, info.seen, [1], { weights, meanOver }),
  };
};

/** An objective from its targets, classification, terms and pixel weights. */
export const objective = (
  info: StepReference,
  current: OutputsReference,
  targets: number[],
  classification: ClassificationName,
  terms: readonly [string, PartReference][],
  pixelWeights?: number[],
): ObjectiveReference => {
  const ce = classificationReference(info, current, targets, classification, pixelWeights);
  const parts: Record<string, PartReference> = { classification: ce };
  let total = ce;
  for (const [name, part] of terms) {
    parts[name] = part;
    total = sum(total, part);
  }
  return { targets, pixelWeights, classification, parts, terms: terms.map(([n]) => n), total };
};

/** Fine-tuning: cross-entropy on the labels. */
export const ftObjectiveReference = (
  info: StepReference,
  batch: BatchReference,
  current: OutputsReference,
): ObjectiveReference => objective(info, current, Array.from(batch.labels), "ce", []);

/** LwF's term: kdWeight * MiB's KnowledgeDistillationLoss of the old logits. */
const kdPart = (
  unbiased: boolean,
  info: StepReference,
  current: OutputsReference,
  old: OutputsReference,
  weight: number,
): PartReference => {
  const z = current.logits;
  const value = unbiased
    ? unbiasedDistillationReference(z, old.logits, info.seen, info.old)
    : knowledgeDistillationReference(z, old.logits, info.seen, info.old);
  const logits = distillationBackwardReference(unbiased, z, old.logits, info.seen, info.old);
  return scaled({ ...emptyPart(current, value), logits }, weight);
};

/** LwF: cross-entropy plus kdWeight * distillation (after step 0). */
export const lwfObjectiveReference = (
  info: StepReference,
  batch: BatchReference,
  current: OutputsReference,
  old: OutputsReference | undefined,
  weights: { readonly kdWeight: number },
): ObjectiveReference =>
  objective(
    info,
    current,
    Array.from(batch.labels),
    "ce",
    old ? [["kd", kdPart(false, info, current, old, weights.kdWeight)]] : [],
  );

/** ILT: LwF plus featureWeight * MSE between the last backbone stages. */
export const iltObjectiveReference = (
  info: StepReference,
  batch: BatchReference,
  current: OutputsReference,
  old: OutputsReference | undefined,
  weights: { readonly kdWeight: number; readonly featureWeight: number },
): ObjectiveReference => {
  if (!old) return objective(info, current, Array.from(batch.labels), "ce", []);
  const last = current.stages.length - 1;
  const a = current.stages[last];
  const b = old.stages[last];
  const features = emptyPart(current, featureDistillationReference(a, b));
  features.stages[last] = featureDistillationBackwardReference(a, b);
  return objective(info, current, Array.from(batch.labels), "ce", [
    ["kd", kdPart(false, info, current, old, weights.kdWeight)],
    ["features", scaled(features, weights.featureWeight)],
  ]);
};

/** MiB: unbiased cross-entropy plus kdWeight * unbiased distillation (after step 0). */
export const mibObjectiveReference = (
  info: StepReference,
  batch: BatchReference,
  current: OutputsReference,
  old: OutputsReference | undefined,
  weights: { readonly kdWeight: number },
): ObjectiveReference =>
  objective(
    info,
    current,
    Array.from(batch.labels),
    "unbiased-ce",
    old ? [["unbiased-kd", kdPart(true, info, current, old, weights.kdWeight)]] : [],
  );

/**
 * The gradient of a function of the collapsed logits [pixels, old] with
 * respect to the new logits [pixels, channels]: channel k takes the collapsed
 * channel k below `old`, channel 0 (background) from `old` on.
 */
const uncollapseGradient = (g: readonly number[], channels: number, old: number): number[] => {
  const pixels = g.length / old;
  const out = zeros(pixels * channels);
  for (let p = 0; p < pixels; p++) {
    for (let k = 0; k < channels; k++) out[p * channels + k] = g[p * old + (k < old ? k : 0)];
  }
  return out;
};

/**
 * PLOP after step 0: entropy pseudo labels from the old logits and the
 * per-class `thresholds`, each image's cross-entropy weighted by its
 * adaptive factor, and local POD over every stage and the features with
 * weight podFactor * sqrt(seen / added) per layer and, when both outputs
 * hold the logits before upsampling, over those too (the new classes'
 * logits summed into background) with weight logitsFactor (default 0.0005)
 * * sqrt(seen / added), averaged over the layers. At step 0 (no old model)
 * plain cross-entropy.
 */
export const plopObjectiveReference = (
  info: StepReference,
  batch: BatchReference,
  current: OutputsReference,
  old: OutputsReference | undefined,
  thresholds: ArrayLike<number> | undefined,
  weights: { readonly podFactor: number; readonly logitsFactor?: number },
): ObjectiveReference => {
  if (!old || !thresholds) return objective(info, current, Array.from(batch.labels), "ce", []);
  const pseudo = plopPseudoLabelsReference(
    old.logits,
    batch.labels,
    thresholds,
    info.old,
    info.seen,
    batch.h * batch.w,
  );
  const newLayers = [...current.stages, current.features];
  const oldLayers = [...old.stages, old.features];
  const shapes = [...current.stageShapes, current.featureShape];
  const schedule = Math.sqrt(info.seen / info.added);
  const layerWeights = newLayers.map(() => weights.podFactor * schedule);
  const small = current.smallLogits && old.smallLogits && current.smallLogitsShape;
  if (small) {
    const [n, h, w] = current.smallLogitsShape!;
    newLayers.push(collapseNewLogitsReference(current.smallLogits!, info.seen, info.old));
    oldLayers.push(old.smallLogits!);
    shapes.push([n, h, w, info.old]);
    layerWeights.push((weights.logitsFactor ?? 0.0005) * schedule);
  }
  const options = { weights: layerWeights };
  const grads = localPodBackwardReference(newLayers, oldLayers, shapes, options);
  const logitsGrad = small ? grads.pop()! : undefined;
  const pod: PartReference = {
    value: localPodReference(newLayers, oldLayers, shapes, options),
    logits: zeros(current.logits.length),
    features: grads[grads.length - 1],
    stages: grads.slice(0, -1),
    smallLogits: logitsGrad
      ? uncollapseGradient(logitsGrad, info.seen, info.old)
      : zeros(current.smallLogits?.length ?? 0),
  };
  return objective(
    info,
    current,
    pseudo.targets,
    "ce-mean-all",
    [["pod", pod]],
    pseudo.pixelWeights,
  );
};
