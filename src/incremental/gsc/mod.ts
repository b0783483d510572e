/**
 * GSC's stages: step-aware gradient compensation, soft-sharp relation
 * distillation, prototypical pseudo re-labeling and the prototypes. The
 * kernels live in `ops/` (sgc, ssrd, pseudo_relabel, prototypes, segments)
 * and the SSRD nodes in `autograd/ssrd.ts`; this barrel names them for the
 * method.
 *
 * @module
 */
export { pseudoRelabel, pseudoRelabelKernels } from "../../ops/pseudo_relabel.ts";
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
export {
  ssrdBackwardKernel,
  ssrdRelationSumKernel,
  ssrdSharpKernel,
  ssrdSoftFinalizeKernel,
  ssrdStatsKernel,
} from "../../ops/ssrd.ts";
export { ssrdSharp, ssrdSoft } from "../../autograd/ssrd.ts";
export { ssrdLoss } from "./ssrd.ts";
export type { SsrdOptions } from "./ssrd.ts";
