/**
 * The command line's public API: option parsing and validation for `gsc
 * train|eval|synth`, help texts, the progress reporter and the dispatcher
 * that `main.ts` calls with the command bodies.
 *
 * @module
 */
export { CliError, optionError } from "./errors.ts";
export {
  COMMON_DEFAULTS,
  DATASET_DEFAULTS,
  defaultOut,
  GSC_DEFAULTS,
  methodWeights,
} from "./defaults.ts";
export type { DatasetDefaults, MethodWeights } from "./defaults.ts";
export { OptionReader, parseChoice, parseNumber, readOptions } from "./spec.ts";
export type { NumberCheck, OptionSpec, OptionValues } from "./spec.ts";
export { parseTrainOptions, TASK_PREFIX, validTasks } from "./train_options.ts";
export { GSC_ONLY, TRAIN_OPTIONS, WEIGHT_USERS } from "./train_spec.ts";
export type { TrainCommand } from "./train_options.ts";
export { EVAL_OPTIONS, parseEvalOptions } from "./eval_options.ts";
export type { EvalCommand } from "./eval_options.ts";
export { describeSynthetic, parseSynthOptions, runSynth, SYNTH_OPTIONS } from "./synth.ts";
export { COMMAND_NAMES, COMMAND_OPTIONS, helpText } from "./help.ts";
export type { CommandName } from "./help.ts";
export {
  epochLine,
  eventLine,
  formatDuration,
  makeProgressReporter,
  stepEndLine,
  stepLabel,
} from "./progress.ts";
export type { ProgressOptions, ProgressReporter, ProgressStream } from "./progress.ts";
export { runCli } from "./run.ts";
export type { CliCommands, SynthError } from "./run.ts";
export { closest, editDistance } from "./suggest.ts";
