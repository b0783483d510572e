/**
 * The optimizer layer: SGD with momentum over parameter groups, the poly
 * learning-rate schedule, and their float64 references.
 *
 * @module
 */
export * from "./sgd.ts";
export * from "./poly.ts";
