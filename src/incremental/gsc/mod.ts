/**
 * GSC's stages: step-aware gradient compensation, soft-sharp relation
 * distillation, prototypical pseudo re-labeling and the prototypes.
 *
 * @module
 */
export * from "./ppr.ts";
export * from "./prototypes.ts";
export * from "./sgc.ts";
export * from "./ssrd.ts";
