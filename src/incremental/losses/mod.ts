/**
 * The baselines' losses (LwF, ILT, MiB, PLOP) as GPU ops with autograd:
 * what the methods in `../methods/` build their objectives from.
 *
 * @module
 */
export { checkLogits, unbiasedCrossEntropy, type UnbiasedCrossEntropyOptions } from "./unbiased.ts";
export { type DistillationOptions, knowledgeDistillation, unbiasedDistillation } from "./kd.ts";
export { featureDistillation } from "./features.ts";
export {
  collapseNewLogits,
  localPod,
  localPodLayer,
  type LocalPodOptions,
  plopLocalPod,
  type PlopPodFactors,
  type PlopPodInputs,
  podAdaptiveFactor,
  podEmbedding,
  podLayout,
} from "./pod.ts";
export {
  entropyHistogram,
  entropyNormalizer,
  type EntropyOptions,
  type MedianOptions,
  medianThresholds,
  plopPseudoLabels,
  type PseudoLabels,
} from "./pseudo.ts";
