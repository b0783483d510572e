/**
 * GSC as a {@link Method} (docs/gsc.md): PLOP (its six-layer POD, its entropy
 * pseudo labels with median thresholds, its classification adaptive factor)
 * plus three switchable parts:
 * - PPR: the pseudo labels (and their thresholds) come from the old logits
 *   corrected by the class prototypes kept from the previous step;
 * - SGC: each pixel's cross-entropy weight is multiplied by HFC's compressed,
 *   per-step normalised gain (`ops/sgc.ts`);
 * - SSRD: FISS's soft-label and entropy terms, and optionally its class
 *   relation term weighted by each class's mean SGC weight (`gsc/ssrd.ts`).
 * After every step the final model's prototypes are computed over the step's
 * targets and kept for the next step (and checkpoints) while PPR is on. With
 * the three parts off the objective is PLOP's, bit for bit; on a domain step
 * (no background shift) it is PLOP's too (POD alone).
 *
 * @module
 */
import { Effect, Exit, Scope } from "effect";
import { scale } from "../../autograd/basic.ts";
import { accumulatePrototypes, finalizePrototypes } from "../../ops/prototypes.ts";
import { prototypeCorrectedLogits } from "../../ops/pseudo_relabel.ts";
import { sgcWeights } from "../../ops/sgc.ts";
import { fillInto, full } from "../../ops/core.ts";
import { mul } from "../../ops/elementwise.ts";
import { resizeBilinear } from "../../ops/resize.ts";
import { download, empty, fromArray, type Tensor } from "../../tensor/tensor.ts";
import { medianThresholds, plopPseudoLabels } from "../losses/mod.ts";
import type { BatchInput, LossTerm, Method, MethodState, OldOutputs, StepInfo } from "../method.ts";
import { hasBackgroundShift } from "../method.ts";
import { crossEntropyClassification, plopClassification } from "./classification.ts";
import { ENTROPY_BINS, entropyHistogramPass, plopPod } from "./plop.ts";
import { ssrdLoss } from "../gsc/ssrd.ts";
import { quantilePortion, quantileThresholds } from "../gsc/thresholds.ts";
import type { GscOptions } from "../types.ts";

/** Prototypes of the classes seen so far and which of them are valid. */
interface Prototypes {
  readonly prototypes: Tensor<"f32">;
  readonly valid: Tensor<"u32">;
  readonly classes: number;
  readonly features: number;
}

/** GSC; `scope` holds the prototypes across steps and the step's thresholds. */
export const gsc = (options: GscOptions, scope: Scope.Scope): Method => {
  let stored: Prototypes | undefined;
  let classStep: Tensor<"i32"> | undefined;
  let histogram: Uint32Array | undefined;
  let thresholds: Tensor<"f32"> | undefined;
  // The quantile variant's epoch: training batches seen this step / batches a pass.
  let epochBatches = 1;
  let batchesSeen = 0;
  let thresholdEpoch = -1;
  let resumed: { step: number; batchesSeen: number } | undefined;
  let currentStep = 0;

  /** The posterior the pseudo labels come from: PPR's corrected logits, or the old ones. */
  const pseudoLogits = (batch: BatchInput, old: OldOutputs) =>
    Effect.gen(function* () {
      if (!options.ppr || !stored) return old.logits;
      const features = yield* resizeBilinear(old.features, batch.height, batch.width);
      return yield* prototypeCorrectedLogits(
        old.logits,
        features,
        stored.prototypes,
        stored.valid,
        {
          tau: options.pprTau,
        },
      );
    });

  /** The step's thresholds tensor, refreshed once an epoch under the quantile variant. */
  const thresholdsFor = (info: StepInfo) =>
    Effect.gen(function* () {
      const epoch = options.pprQuantile ? Math.floor(batchesSeen / epochBatches) : 0;
      if (thresholds && epoch === thresholdEpoch) return thresholds;
      const counts = histogram ?? new Uint32Array(info.old * ENTROPY_BINS);
      const values = options.pprQuantile
        ? quantileThresholds(counts, ENTROPY_BINS, info.old, quantilePortion(epoch))
        : medianThresholds(counts, ENTROPY_BINS, info.old);
      thresholds = yield* Scope.provide(fromArray(values, [info.old], "f32"), scope);
      thresholdEpoch = epoch;
      return thresholds;
    });

  /** PLOP's pseudo labels of a batch (from PPR's posterior when it is on). */
  const pseudoLabels = (info: StepInfo, batch: BatchInput, old: OldOutputs) =>
    Effect.gen(function* () {
      const logits = yield* pseudoLogits(batch, old);
      const t = yield* thresholdsFor(info);
      return yield* plopPseudoLabels(logits, batch.labels, t, info.old, { seenClasses: info.seen });
    });

  return {
    name: "gsc",
    usesOldModel: true,
    beginStep: (info, data) =>
      Effect.gen(function* () {
        classStep = yield* Scope.provide(
          fromArray(info.classStep, [info.classStep.length], "i32"),
          scope,
        );
        currentStep = info.step;
        if (!hasBackgroundShift(info)) return; // a domain step: PLOP's, no pseudo labels
        let batches = 0;
        histogram = yield* entropyHistogramPass(info, data, (batch, old) => {
          batches++;
          return pseudoLogits(batch, old);
        });
        epochBatches = Math.max(1, batches);
        batchesSeen = resumed?.step === info.step ? resumed.batchesSeen : 0;
        thresholds = undefined;
        thresholdEpoch = -1;
      }),
    objective: (info, batch, current, old) =>
      Effect.gen(function* () {
        if (old && !hasBackgroundShift(info)) {
          // A domain step: the labels are complete, no pseudo labels; PLOP's POD alone.
          const pod = yield* plopPod(info, current, old, info.config);
          return {
            targets: batch.labels,
            classification: crossEntropyClassification,
            terms: [{ name: "pod", value: pod }],
          };
        }
        if (!old || info.step === 0) {
          return { targets: batch.labels, classification: crossEntropyClassification, terms: [] };
        }
        const pseudo = yield* pseudoLabels(info, batch, old);
        batchesSeen++;
        const zeta = info.old / info.seen;
        const split = options.sgc && options.sgcSplit;
        const distilled = split ? zeta : 1;
        const sgcOptions = { step: info.step, zeta, min: options.sgcMin, max: options.sgcMax };
        const relationOn = options.ssrd && options.lambdaRelation !== 0;
        // SGC's weights alone, when the relation term needs them: the classification weights
        // are then these times PLOP's factor (the same product the kernel forms with a base).
        const sgcAlone = options.sgc && classStep && relationOn
          ? yield* sgcWeights(current.logits.value, pseudo.targets, classStep, sgcOptions)
          : undefined;
        const pixelWeights = sgcAlone
          ? yield* mul(sgcAlone, pseudo.weights)
          : options.sgc && classStep
          ? yield* sgcWeights(
            current.logits.value,
            pseudo.targets,
            classStep,
            sgcOptions,
            pseudo.weights,
          )
          : pseudo.weights;
        let pod = yield* plopPod(info, current, old, info.config);
        if (split) pod = yield* scale(pod, distilled);
        const terms: LossTerm[] = [{ name: "pod", value: pod }];
        if (options.ssrd) {
          // The relation term weighs each class by its pixels' mean SGC weight (FISS's
          // `efficient_dis_old_class_weight`: SGC's alone, without PLOP's factor), 1 without SGC.
          const relationWeights = !relationOn
            ? undefined
            : sgcAlone ?? (yield* full(pseudo.targets.shape, 1, "f32"));
          const ssrd = yield* ssrdLoss(current.logits, old.logits, pseudo.targets, info.old, {
            lambdaSoft: options.lambdaSoft * distilled,
            lambdaEntropy: options.lambdaEntropy,
            lambdaRelation: options.lambdaRelation,
            relationWeights,
          });
          terms.push({ name: "ssrd", value: ssrd.loss });
        }
        const classificationScale = split
          ? yield* fromArray([Math.sqrt(1 - zeta)], [1], "f32")
          : undefined;
        return {
          targets: pseudo.targets,
          pixelWeights,
          classification: plopClassification,
          ...(classificationScale ? { classificationScale } : {}),
          terms,
        };
      }),
    endStep: (info, data) =>
      Effect.gen(function* () {
        if (!options.ppr) return;
        let sums: Tensor<"f32"> | undefined;
        let counts: Tensor<"f32"> | undefined;
        let featureCount = 0;
        const local = yield* Scope.make();
        yield* data.withBothModels((batch, current, old) =>
          Effect.gen(function* () {
            featureCount = current.features.value.shape[3];
            if (!sums || !counts) {
              sums = yield* Scope.provide(empty([info.seen, featureCount], "f32"), local);
              counts = yield* Scope.provide(empty([info.seen], "f32"), local);
              yield* fillInto(sums, 0);
              yield* fillInto(counts, 0);
            }
            const targets = old && info.step > 0 && hasBackgroundShift(info)
              ? (yield* pseudoLabels(info, batch, old)).targets
              : batch.labels;
            const features = yield* resizeBilinear(
              current.features.value,
              batch.height,
              batch.width,
            );
            yield* accumulatePrototypes(features, targets, sums, counts);
          })
        );
        if (!sums || !counts) return yield* Scope.close(local, Exit.void);
        const next = yield* Scope.provide(
          finalizePrototypes(sums, counts, stored, options.protoMinPixels),
          scope,
        );
        stored = {
          prototypes: next.prototypes,
          valid: next.valid,
          classes: info.seen,
          features: featureCount,
        };
        yield* Scope.close(local, Exit.void);
      }),
    exportState: () =>
      Effect.gen(function* () {
        const json = { prototypes: stored !== undefined, step: currentStep, batchesSeen };
        if (!stored) return { tensors: {}, json } as MethodState;
        const prototypes = yield* download(stored.prototypes);
        const valid = yield* download(stored.valid);
        return {
          tensors: {
            "gsc.prototypes": { shape: [stored.classes, stored.features], data: prototypes },
            "gsc.prototypes_valid": { shape: [stored.classes], data: Float32Array.from(valid) },
          },
          json,
        };
      }),
    importState: (state) =>
      Effect.gen(function* () {
        const json = state.json as { batchesSeen?: number; step?: number } | undefined;
        if (json && typeof json.batchesSeen === "number") {
          resumed = { step: json.step ?? -1, batchesSeen: json.batchesSeen };
        }
        const p = state.tensors["gsc.prototypes"];
        const v = state.tensors["gsc.prototypes_valid"];
        if (!p || !v) return;
        const [classes, features] = p.shape;
        stored = {
          prototypes: yield* Scope.provide(fromArray(p.data, [classes, features], "f32"), scope),
          valid: yield* Scope.provide(fromArray(Uint32Array.from(v.data), [classes], "u32"), scope),
          classes,
          features,
        };
      }),
  };
};
