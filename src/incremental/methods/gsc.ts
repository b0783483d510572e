/**
 * GSC as a {@link Method} (docs/gsc.md): prototypical pseudo re-labeling
 * gives the step's targets, step-aware gradient compensation gives the
 * per-pixel gradient weights, and soft-sharp relation distillation adds
 * its loss. After every step the final model's prototypes are computed
 * over the step's targets and kept for the next step (and checkpoints).
 * With all three parts switched off the objective is fine-tuning's.
 *
 * @module
 */
import { Effect, Exit, Scope } from "effect";
import {
  accumulatePrototypes,
  finalizePrototypes,
  pseudoRelabel,
  sgcWeights,
  ssrdLoss,
} from "../gsc/mod.ts";
import { fillInto } from "../../ops/core.ts";
import { resizeBilinear } from "../../ops/resize.ts";
import { download, empty, fromArray, type Tensor } from "../../tensor/tensor.ts";
import type { BatchInput, LossTerm, Method, MethodState, OldOutputs, StepInfo } from "../method.ts";
import { crossEntropyClassification } from "./classification.ts";
import type { GscOptions } from "../types.ts";

/** Prototypes of the classes seen so far and which of them are valid. */
interface Prototypes {
  readonly prototypes: Tensor<"f32">;
  readonly valid: Tensor<"u32">;
  readonly classes: number;
  readonly features: number;
}

/** The old model's features resampled to the label size. */
const oldFeaturesAtLabels = (batch: BatchInput, old: OldOutputs) =>
  resizeBilinear(old.features, batch.height, batch.width);

/** GSC; `scope` holds the prototypes across steps. */
export const gsc = (options: GscOptions, scope: Scope.Scope): Method => {
  let stored: Prototypes | undefined;
  let classStep: Tensor<"i32"> | undefined;

  /** The step's targets: PPR's relabelled map, or the labels when PPR is off. */
  const targetsOf = (info: StepInfo, batch: BatchInput, old: OldOutputs | undefined) =>
    Effect.gen(function* () {
      if (!options.ppr || !old || !stored || info.step === 0) return batch.labels;
      const features = yield* oldFeaturesAtLabels(batch, old);
      return yield* pseudoRelabel(
        batch.labels,
        old.logits,
        features,
        stored.prototypes,
        stored.valid,
        { tau: options.pprTau, theta: options.pprTheta },
      );
    });

  return {
    name: "gsc",
    usesOldModel: true,
    beginStep: (info) =>
      Effect.gen(function* () {
        classStep = yield* Scope.provide(
          fromArray(info.classStep, [info.classStep.length], "i32"),
          scope,
        );
      }),
    objective: (info, batch, current, old) =>
      Effect.gen(function* () {
        if (info.step === 0 || !old) {
          return { targets: batch.labels, classification: crossEntropyClassification, terms: [] };
        }
        const targets = yield* targetsOf(info, batch, old);
        const pixelWeights = options.sgc && classStep
          ? yield* sgcWeights(current.logits.value, targets, classStep, {
            step: info.step,
            zeta: info.old / info.seen,
            min: options.sgcMin,
            max: options.sgcMax,
          })
          : undefined;
        const terms: LossTerm[] = [];
        if (options.ssrd) {
          const ssrd = yield* ssrdLoss(current.logits, old.logits, targets, info.old, info.old, {
            tSoft: options.tSoft,
            tSharp: options.tSharp,
            lambdaSoft: options.lambdaSoft,
            lambdaSharp: options.lambdaSharp,
          });
          terms.push({ name: "ssrd", value: ssrd.loss });
        }
        return { targets, pixelWeights, classification: crossEntropyClassification, terms };
      }),
    endStep: (info, data) =>
      Effect.gen(function* () {
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
            const targets = yield* targetsOf(info, batch, old);
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
        if (!stored) return { tensors: {}, json: { prototypes: false } } as MethodState;
        const prototypes = yield* download(stored.prototypes);
        const valid = yield* download(stored.valid);
        return {
          tensors: {
            "gsc.prototypes": { shape: [stored.classes, stored.features], data: prototypes },
            "gsc.prototypes_valid": { shape: [stored.classes], data: Float32Array.from(valid) },
          },
          json: { prototypes: true },
        };
      }),
    importState: (state) =>
      Effect.gen(function* () {
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
