/**
 * GSC's stages: step-aware gradient compensation, soft-sharp relation
 * distillation, prototypical pseudo re-labeling and the prototypes.
 *
 * @module
 */
export { pseudoRelabel, pseudoRelabelKernels } from "./ppr.ts";
export type { PprOptions } from "./ppr.ts";
export {
  accumulatePrototypes,
  finalizePrototypes,
  finalizePrototypesKernels,
  prototypeSumKernel,
} from "./prototypes.ts";
export type { PrototypeSet } from "./prototypes.ts";
export { sgcGroupSumKernel, sgcWeights, sgcWeightsKernel, sgcWeightsUnclipped } from "./sgc.ts";
export type { SgcOptions } from "./sgc.ts";
export {
  ssrdBackwardKernel,
  ssrdLoss,
  ssrdRelationSumKernel,
  ssrdSharp,
  ssrdSharpKernel,
  ssrdSoft,
  ssrdSoftFinalizeKernel,
  ssrdStatsKernel,
} from "./ssrd.ts";
export type { SsrdOptions } from "./ssrd.ts";
