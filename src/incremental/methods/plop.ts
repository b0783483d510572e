/**
 * PLOP as a {@link Method}: before a step, one pass of the old model over
 * the step's images gives per-class median entropies; during the step,
 * confident old-class pixels labelled background become pseudo labels, each
 * image's cross-entropy is scaled by its classification adaptive factor, and local
 * POD distils six layers as PLOP's VOC default does (`--pod_logits`): the
 * four backbone stages and the head's output at the pod factor (0.01), and
 * the logits before upsampling at 0.0005 with the new classes' logits
 * summed into background, the six averaged; the cross-entropy's mean runs
 * over every pixel, the filtered ones included, as PLOP's `loss.mean()`
 * does ({@link plopClassification}). On a domain step (labels
 * complete, no background shift) there are no pseudo labels and no
 * adaptive factor: cross-entropy on the labels plus POD (docs/datasets.md).
 *
 * @module
 */
import { Effect, Scope } from "effect";
import {
  entropyHistogram,
  medianThresholds,
  plopLocalPod,
  plopPseudoLabels,
  podLogitsFactorOf,
  podNewLogitsOf,
} from "../losses/mod.ts";
import { fillInto } from "../../ops/core.ts";
import { download, empty, fromArray, type Tensor } from "../../tensor/tensor.ts";
import type { GpuScoped } from "../../autograd/tape.ts";
import type {
  BatchInput,
  DataPass,
  LossTerm,
  Method,
  NewOutputs,
  OldOutputs,
  StepInfo,
} from "../method.ts";
import { hasBackgroundShift } from "../method.ts";
import { crossEntropyClassification, plopClassification } from "./classification.ts";
import type { RunConfig } from "../types.ts";

/** Histogram bins of the normalised entropy in [0, 1]. */
export const ENTROPY_BINS = 100;

/**
 * PLOP's whole POD term at a step > 0: the backbone stages and the head's
 * output (its "attentions") at `config.podFactor`, the logits before
 * upsampling at `config.podLogitsFactor` (PLOP's 0.0005 when absent; the
 * new classes' logits summed into background's, or left out when
 * `config.podNewLogits` is `trim`), each scaled by sqrt(|C_{0:t}| / |C_t|)
 * and averaged over the six layers (a factor of 0 still counts its layer).
 */
export const plopPod = (
  info: StepInfo,
  current: NewOutputs,
  old: OldOutputs,
  config: Pick<RunConfig, "podFactor" | "podLogitsFactor" | "podNewLogits">,
) =>
  plopLocalPod({
    newStages: [...current.stages, current.features],
    oldStages: [...old.stages, old.features],
    newLogits: current.smallLogits,
    oldLogits: old.smallLogits,
    oldClasses: info.old,
    seenClasses: info.seen,
    newClasses: info.current.length,
  }, {
    podFactor: config.podFactor,
    logitsFactor: podLogitsFactorOf(config),
    newLogits: podNewLogitsOf(config),
  });

/**
 * PLOP's thresholds pass: the per-class histogram [old, ENTROPY_BINS] of the
 * normalised entropy of the pixels labelled 0, counted on the host, from the
 * logits `logitsOf` gives for each batch (the old logits for PLOP; GSC's PPR
 * passes its prototype-corrected ones).
 */
export const entropyHistogramPass = (
  info: StepInfo,
  data: DataPass,
  logitsOf: (batch: BatchInput, old: OldOutputs) => GpuScoped<Tensor<"f32">>,
) =>
  Effect.scoped(Effect.gen(function* () {
    const histogram = yield* empty([info.old, ENTROPY_BINS], "u32");
    yield* fillInto(histogram, 0);
    yield* data.withOldModel((batch, old) =>
      Effect.gen(function* () {
        const logits = yield* logitsOf(batch, old);
        yield* entropyHistogram(logits, batch.labels, histogram, info.old, {
          seenClasses: info.seen,
        });
      })
    );
    return yield* download(histogram);
  }));

/** PLOP; `scope` holds the thresholds between `beginStep` and the step's end. */
export const plop = (config: RunConfig, scope: Scope.Scope): Method => {
  let thresholds: Tensor<"f32"> | undefined;
  return {
    name: "plop",
    usesOldModel: true,
    beginStep: (info, data) =>
      Effect.gen(function* () {
        if (!hasBackgroundShift(info)) return; // a domain step: no pseudo labels, no thresholds
        const counts = yield* entropyHistogramPass(info, data, (_, old) =>
          Effect.succeed(old.logits));
        const medians = medianThresholds(counts, ENTROPY_BINS, info.old);
        thresholds = yield* Scope.provide(fromArray(medians, [info.old], "f32"), scope);
      }),
    objective: (info, batch, current, old) =>
      Effect.gen(function* () {
        if (old && !hasBackgroundShift(info)) {
          // A domain step: the labels are complete, so no pixel is pseudo-labelled; POD alone.
          const pod = yield* plopPod(info, current, old, config);
          return {
            targets: batch.labels,
            classification: crossEntropyClassification,
            terms: [{ name: "pod", value: pod }],
          };
        }
        if (!old || !thresholds) {
          return { targets: batch.labels, classification: crossEntropyClassification, terms: [] };
        }
        const pseudo = yield* plopPseudoLabels(old.logits, batch.labels, thresholds, info.old, {
          seenClasses: info.seen,
        });
        const pod = yield* plopPod(info, current, old, config);
        const terms: LossTerm[] = [{ name: "pod", value: pod }];
        return {
          targets: pseudo.targets,
          pixelWeights: pseudo.weights,
          classification: plopClassification,
          terms,
        };
      }),
  };
};
