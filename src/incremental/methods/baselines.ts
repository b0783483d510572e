/**
 * The baselines of the field as {@link Method}s: fine-tuning, LwF, ILT and
 * MiB, and joint training (the upper bound). Each only builds its objective
 * from the losses in `../losses/`.
 *
 * @module
 */
import { Effect } from "effect";
import { scale } from "../../autograd/basic.ts";
import { featureDistillation, knowledgeDistillation, unbiasedDistillation } from "../losses/mod.ts";
import {
  hasBackgroundShift,
  type LossTerm,
  type Method,
  type NewOutputs,
  type Objective,
  type OldOutputs,
  type StepInfo,
} from "../method.ts";
import { crossEntropyClassification, unbiasedClassification } from "./classification.ts";
import type { RunConfig } from "../types.ts";

/** Plain cross-entropy on the step's targets: the forgetting baseline. */
export const fineTuning = (): Method => ({
  name: "ft",
  usesOldModel: false,
  objective: (_info, batch) =>
    Effect.succeed<Objective>({
      targets: batch.labels,
      classification: crossEntropyClassification,
      terms: [],
    }),
});

/**
 * Joint training: fine-tuning's plain cross-entropy, run on a task whose
 * steps the engine flattened into one step of every class (`../joint.ts`).
 */
export const joint = (): Method => ({ ...fineTuning(), name: "joint" });

/** LwF's weighted distillation term. */
const lwfTerm = (config: RunConfig, info: StepInfo, current: NewOutputs, old: OldOutputs) =>
  Effect.gen(function* () {
    const kd = yield* knowledgeDistillation(current.logits, old.logits, info.old);
    return { name: "kd", value: yield* scale(kd, config.kdWeight) } satisfies LossTerm;
  });

/** Learning without Forgetting: CE + distillation of the old model's softmax over old classes. */
export const lwf = (config: RunConfig): Method => ({
  name: "lwf",
  usesOldModel: true,
  objective: (info, batch, current, old) =>
    Effect.gen(function* () {
      const terms = old ? [yield* lwfTerm(config, info, current, old)] : [];
      return { targets: batch.labels, classification: crossEntropyClassification, terms };
    }),
});

/** ILT: LwF plus an L2 distance between the old and new encoder outputs. */
export const ilt = (config: RunConfig): Method => ({
  name: "ilt",
  usesOldModel: true,
  objective: (info, batch, current, old) =>
    Effect.gen(function* () {
      const terms: LossTerm[] = [];
      if (old) {
        terms.push(yield* lwfTerm(config, info, current, old));
        const last = current.stages.length - 1;
        const de = yield* featureDistillation(current.stages[last], old.stages[last]);
        terms.push({ name: "features", value: yield* scale(de, config.featureWeight) });
      }
      return { targets: batch.labels, classification: crossEntropyClassification, terms };
    }),
});

/**
 * MiB: unbiased cross-entropy and unbiased distillation (the init is the
 * engine's). On a domain step (no background shift: every class is old and
 * none is new) both lose their merging: nothing is hidden in the
 * background, so the cross-entropy is the plain one and the distillation
 * is over every class (docs/datasets.md).
 */
export const mib = (config: RunConfig): Method => ({
  name: "mib",
  usesOldModel: true,
  objective: (info, batch, current, old) =>
    Effect.gen(function* () {
      const terms: LossTerm[] = [];
      const shift = hasBackgroundShift(info);
      if (old) {
        const kd = shift
          ? yield* unbiasedDistillation(current.logits, old.logits, info.old)
          : yield* knowledgeDistillation(current.logits, old.logits, info.old);
        terms.push({
          name: shift ? "unbiased-kd" : "kd",
          value: yield* scale(kd, config.kdWeight),
        });
      }
      const classification = shift ? unbiasedClassification : crossEntropyClassification;
      return { targets: batch.labels, classification, terms };
    }),
});
