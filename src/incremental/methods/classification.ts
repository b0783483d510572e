/**
 * The classification losses a method can train with: plain cross-entropy
 * and MiB's unbiased cross-entropy (plain at step 0, where there is no old
 * class to merge into the background).
 *
 * @module
 */
import { crossEntropy, unbiasedCrossEntropy } from "../../autograd/losses.ts";
import type { ClassificationLoss } from "../method.ts";

/** Cross-entropy on the objective's targets, its pixels weighted by the objective's weights. */
export const crossEntropyClassification: ClassificationLoss = {
  name: "ce",
  loss: (_info, logits, targets, weights) => crossEntropy(logits, targets, { weights }),
};

/**
 * PLOP's classification loss at a pseudo-labelled step: cross-entropy whose
 * per-pixel map (ignored pixels 0) is averaged over every pixel, as PLOP's
 * train.py does (`reduction='none'`, then `loss.mean()`), so pixels its
 * confidence filter ignores still count in the denominator.
 */
export const plopClassification: ClassificationLoss = {
  name: "ce-mean-all",
  loss: (_info, logits, targets, weights) =>
    crossEntropy(logits, targets, { weights, meanOver: "all" }),
};

/** MiB's unbiased cross-entropy with the step's old classes (plain cross-entropy at step 0). */
export const unbiasedClassification: ClassificationLoss = {
  name: "unbiased-ce",
  loss: (info, logits, targets, weights) =>
    info.old > 0
      ? unbiasedCrossEntropy(logits, targets, info.old, { weights })
      : crossEntropy(logits, targets, { weights }),
};
