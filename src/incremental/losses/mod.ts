/**
 * The baselines' losses (LwF, ILT, MiB, PLOP) with autograd: what the
 * methods in `../methods/` build their objectives from. The kernels live in
 * `ops/` (cross_entropy, distill, pod, pseudo_labels) and the nodes in
 * `autograd/`; this barrel names them for the methods.
 *
 * @module
 */
export { checkLogits, type UnbiasedCrossEntropyOptions } from "../../ops/cross_entropy.ts";
export { unbiasedCrossEntropy } from "../../autograd/losses.ts";
export { type DistillationOptions } from "../../ops/distill.ts";
export { knowledgeDistillation, unbiasedDistillation } from "../../autograd/distill.ts";
export { featureDistillation } from "./features.ts";
export { type LocalPodOptions, podLayout } from "../../ops/pod.ts";
export { podEmbedding } from "../../autograd/pod.ts";
export {
  collapseNewLogits,
  localPod,
  localPodLayer,
  NEW_LOGITS_MODES,
  type NewLogitsMode,
  PLOP_LOGITS_FACTOR,
  plopLocalPod,
  type PlopPodFactors,
  type PlopPodInputs,
  podAdaptiveFactor,
  podLogitsFactorOf,
  podNewLogitsOf,
} from "./pod.ts";
export {
  entropyHistogram,
  entropyNormalizer,
  type EntropyOptions,
  type MedianOptions,
  medianThresholds,
  plopPseudoLabels,
  type PseudoLabels,
} from "../../ops/pseudo_labels.ts";
