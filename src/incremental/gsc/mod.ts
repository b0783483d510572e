/**
 * GSC's parts beside PLOP: prototype-corrected pseudo labels (PPR), step-aware
 * gradient compensation (SGC), soft-sharp relation distillation (SSRD) and the
 * prototypes. The kernels live in `ops/` (pseudo_relabel, prototypes, sgc,
 * ssrd, segments) and the SSRD nodes in `autograd/ssrd.ts`; this barrel names
 * them for the method.
 *
 * @module
 */
export { prototypeCorrectedLogits, pseudoRelabelKernels } from "../../ops/pseudo_relabel.ts";
export type { PprOptions } from "../../ops/pseudo_relabel.ts";
export {
  accumulatePrototypes,
  finalizePrototypes,
  finalizePrototypesKernels,
  prototypeSumKernel,
} from "../../ops/prototypes.ts";
export type { PrototypeSet } from "../../ops/prototypes.ts";
export {
  sgcGroupSumKernel,
  sgcWeights,
  sgcWeightsKernel,
  sgcWeightsUnclipped,
} from "../../ops/sgc.ts";
export type { SgcOptions } from "../../ops/sgc.ts";
export { ssrdBackwardKernel, ssrdRowsKernel } from "../../ops/ssrd.ts";
export { ssrdEntropy, ssrdSoftLabel } from "../../autograd/ssrd.ts";
export { ssrdLoss } from "./ssrd.ts";
export type { SsrdOptions } from "./ssrd.ts";
export { quantilePortion, quantileThresholds } from "./thresholds.ts";
