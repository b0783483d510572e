/**
 * The command line's public API: option parsing and validation for `gsc
 * train|eval|synth`, help texts, the progress reporter and the dispatcher
 * that `main.ts` calls with the command bodies.
 *
 * @module
 */
export * from "./errors.ts";
export * from "./defaults.ts";
export * from "./spec.ts";
export * from "./train_options.ts";
export * from "./eval_options.ts";
export * from "./synth.ts";
export * from "./help.ts";
export * from "./progress.ts";
export * from "./run.ts";
export { closest, editDistance } from "./suggest.ts";
