/**
 * Float64 composition of GSC's objective (src/incremental/methods/gsc.ts):
 * PLOP's objective (methods.ts) with PPR's pseudo-label logits, SGC's
 * weights and SSRD's terms from gsc.ts, the thresholds pass and the
 * prototypes pass. Used by the tests only.
 *
 * @module
 */
import {
  accumulatePrototypesReference,
  correctedLogitsReference,
  finalizePrototypesReference,
  sgcWeightsReference,
  ssrdEntropyGradientReference,
  ssrdEntropyReference,
  ssrdRelationGradientReference,
  ssrdRelationReference,
  ssrdSoftLabelGradientReference,
  ssrdSoftLabelReference,
} from "./gsc.ts";
import { entropyHistogramReference, plopPseudoLabelsReference } from "./plop.ts";
import {
  type BatchReference,
  emptyPart,
  objective,
  type ObjectiveReference,
  type OutputsReference,
  type PartReference,
  plopObjectiveReference,
  scaled,
  type StepReference,
  sum,
} from "./methods.ts";
import { resizeBilinearReference } from "./resize.ts";

/** GSC's switches and constants (src/incremental/types.ts GscOptions). */
export interface GscReferenceOptions {
  readonly sgc: boolean;
  readonly ssrd: boolean;
  readonly ppr: boolean;
  readonly pprTau: number;
  readonly protoMinPixels: number;
  readonly sgcMin: number;
  readonly sgcMax: number;
  readonly sgcSplit: boolean;
  readonly lambdaSoft: number;
  readonly lambdaEntropy: number;
  /** FISS's class relation term's weight (0: off). */
  readonly lambdaRelation: number;
}

/** Prototypes [classes, features] and their validity, as GSC keeps them between steps. */
export interface PrototypesReference {
  readonly prototypes: ArrayLike<number>;
  readonly valid: ArrayLike<number>;
  readonly classes: number;
  readonly features: number;
}

/**
 * The logits GSC's pseudo labels come from: PPR's prototype-corrected old
 * logits (the old features resized to the label size), or the old logits
 * when PPR is off or no prototypes are stored yet.
 */
export const gscPseudoLogitsReference = (
  info: StepReference,
  batch: BatchReference,
  old: OutputsReference,
  stored: PrototypesReference | undefined,
  options: GscReferenceOptions,
): ArrayLike<number> => {
  if (!options.ppr || !stored) return old.logits;
  const width = old.featureShape[3];
  const features = resizeBilinearReference(old.features, old.featureShape, batch.h, batch.w);
  return correctedLogitsReference(
    old.logits,
    features,
    stored.prototypes,
    stored.valid,
    info.old,
    width,
    options.pprTau,
  );
};

/**
 * GSC's objective: PLOP's (pseudo labels from {@link gscPseudoLogitsReference}
 * and `thresholds`, adaptive-factor weights, six-layer POD) with the
 * adaptive factor times SGC's weights (zeta = old / seen) and SSRD's
 * lambdaSoft * soft label + lambdaEntropy * entropy (+ lambdaRelation *
 * class relation, each class weighted by its pixels' mean SGC weight, 1
 * without SGC) (HFC's split: the
 * cross-entropy times sqrt(1 - zeta), POD and the soft labels times zeta).
 * At step 0 (or without the old model) plain cross-entropy on the labels.
 */
export const gscObjectiveReference = (
  info: StepReference,
  batch: BatchReference,
  current: OutputsReference,
  old: OutputsReference | undefined,
  stored: PrototypesReference | undefined,
  thresholds: ArrayLike<number> | undefined,
  options: GscReferenceOptions,
  weights: { readonly podFactor: number },
): ObjectiveReference => {
  if (info.step === 0 || !old || !thresholds) {
    return objective(info, current, Array.from(batch.labels), "ce", []);
  }
  const pseudoLogits = gscPseudoLogitsReference(info, batch, old, stored, options);
  const plop = plopObjectiveReference(
    info,
    batch,
    current,
    { ...old, logits: pseudoLogits },
    thresholds,
    weights,
  );
  const zeta = info.old / info.seen;
  const split = options.sgc && options.sgcSplit;
  const sgcOptions = { step: info.step, zeta, min: options.sgcMin, max: options.sgcMax };
  const pixelWeights = options.sgc
    ? Array.from(
      sgcWeightsReference(
        current.logits,
        plop.targets,
        info.classStep,
        info.seen,
        sgcOptions,
        plop.pixelWeights,
      ),
    )
    : plop.pixelWeights;
  const terms: [string, PartReference][] = [
    ["pod", split ? scaled(plop.parts.pod, zeta) : plop.parts.pod],
  ];
  if (options.ssrd) {
    const spec = { channels: info.seen, oldClasses: info.old };
    const z = current.logits;
    const lambdaSoft = options.lambdaSoft * (split ? zeta : 1);
    const soft = ssrdSoftLabelReference(z, old.logits, plop.targets, spec);
    const softGrad = ssrdSoftLabelGradientReference(z, old.logits, plop.targets, spec);
    const entropy = ssrdEntropyReference(z, info.seen);
    const entropyGrad = ssrdEntropyGradientReference(z, info.seen);
    const lambdaRelation = options.lambdaRelation;
    const relationWeights = options.sgc
      ? Array.from(sgcWeightsReference(z, plop.targets, info.classStep, info.seen, sgcOptions))
      : plop.targets.map(() => 1);
    const relation = lambdaRelation === 0
      ? 0
      : ssrdRelationReference(z, old.logits, plop.targets, relationWeights, info.seen);
    const relationGrad = lambdaRelation === 0
      ? new Float64Array(z.length)
      : ssrdRelationGradientReference(z, old.logits, plop.targets, relationWeights, info.seen);
    terms.push(["ssrd", {
      ...emptyPart(
        current,
        lambdaSoft * soft + options.lambdaEntropy * entropy + lambdaRelation * relation,
      ),
      logits: Array.from(
        softGrad,
        (g, i) =>
          lambdaSoft * g + options.lambdaEntropy * entropyGrad[i] +
          lambdaRelation * relationGrad[i],
      ),
    }]);
  }
  const result = objective(info, current, plop.targets, "ce-mean-all", terms, pixelWeights);
  if (!split) return result;
  const classification = scaled(result.parts.classification, Math.sqrt(1 - zeta));
  const total = terms.reduce((t, [, part]) => sum(t, part), classification);
  return { ...result, parts: { ...result.parts, classification }, total };
};

/**
 * GSC's thresholds pass: PLOP's histogram of the normalised entropy of the
 * pixels labelled 0 in `pass`, from {@link gscPseudoLogitsReference}, through
 * PLOP's median rule.
 */
export const gscHistogramReference = (
  info: StepReference,
  pass: readonly { readonly batch: BatchReference; readonly old: OutputsReference }[],
  stored: PrototypesReference | undefined,
  options: GscReferenceOptions,
  bins: number,
): number[] => {
  const histogram = new Array<number>(info.old * bins).fill(0);
  for (const { batch, old } of pass) {
    const logits = gscPseudoLogitsReference(info, batch, old, stored, options);
    entropyHistogramReference(logits, batch.labels, info.old, bins, info.seen)
      .forEach((v, i) => (histogram[i] += v));
  }
  return histogram;
};

/**
 * GSC's pass after a step: the final model's features resized to the label
 * size, accumulated per target class (the step's pseudo labels after step 0,
 * the labels at step 0), and finalised against the previous prototypes with
 * `protoMinPixels`.
 */
export const gscPrototypesReference = (
  info: StepReference,
  pass: readonly {
    readonly batch: BatchReference;
    readonly current: OutputsReference;
    readonly old: OutputsReference | undefined;
  }[],
  previous: PrototypesReference | undefined,
  thresholds: ArrayLike<number> | undefined,
  options: GscReferenceOptions,
): PrototypesReference => {
  const width = pass[0].current.featureShape[3];
  const sums = new Float64Array(info.seen * width);
  const counts = new Float64Array(info.seen);
  for (const { batch, current, old } of pass) {
    const targets = info.step > 0 && old && thresholds
      ? plopPseudoLabelsReference(
        gscPseudoLogitsReference(info, batch, old, previous, options),
        batch.labels,
        thresholds,
        info.old,
        info.seen,
        batch.h * batch.w,
      ).targets
      : batch.labels;
    const features = resizeBilinearReference(
      current.features,
      current.featureShape,
      batch.h,
      batch.w,
    );
    const part = accumulatePrototypesReference(features, targets, info.seen, width);
    part.sums.forEach((v, i) => (sums[i] += v));
    part.counts.forEach((v, i) => (counts[i] += v));
  }
  const next = finalizePrototypesReference(
    sums,
    counts,
    info.seen,
    width,
    previous,
    options.protoMinPixels,
  );
  return { prototypes: next.prototypes, valid: next.valid, classes: info.seen, features: width };
};
