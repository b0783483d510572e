/**
 * Help texts, generated from the option tables so every option appears with
 * its default and nothing documented can drift from what is parsed.
 *
 * @module
 */
import { EVAL_OPTIONS } from "./eval_options.ts";
import type { OptionSpec } from "./spec.ts";
import { SYNTH_OPTIONS } from "./synth.ts";
import { TRAIN_OPTIONS } from "./train_spec.ts";

/** The commands of `gsc`. */
export const COMMAND_NAMES = ["train", "eval", "synth"] as const;
/** A command name. */
export type CommandName = typeof COMMAND_NAMES[number];

const SUMMARY: Readonly<Record<CommandName, string>> = {
  train: "train a DeepLabV3 model through every step of an incremental task",
  eval: "evaluate a run's checkpoint on a split",
  synth: "write the synthetic VOC-layout benchmark",
};

/** The option tables by command. */
export const COMMAND_OPTIONS: Readonly<Record<CommandName, readonly OptionSpec[]>> = {
  train: TRAIN_OPTIONS,
  eval: EVAL_OPTIONS,
  synth: SYNTH_OPTIONS,
};

const table = (rows: readonly (readonly [string, string])[]): string[] => {
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`);
};

const optionRow = (spec: OptionSpec): readonly [string, string] => [
  `--${spec.name}${spec.value ? ` ${spec.value}` : ""}`,
  spec.description + (spec.defaultText === undefined ? "" : ` (default: ${spec.defaultText})`),
];

/** The help of a command, or of `gsc` itself (`"top"`). */
export function helpText(command: CommandName | "top"): string {
  if (command === "top") {
    return [
      "gsc: class-incremental semantic segmentation trained in WebGPU compute shaders",
      "",
      "Usage: gsc <command> [options]",
      "",
      "Commands:",
      ...table(COMMAND_NAMES.map((name) => [name, SUMMARY[name]])),
      "",
      "Run `gsc <command> --help` for the options of a command.",
      "Example: gsc train --dataset synth --task 15-1 --method gsc --seed 0",
    ].join("\n");
  }
  return [
    `gsc ${command}: ${SUMMARY[command]}`,
    "",
    `Usage: gsc ${command} [options]`,
    "",
    "Options:",
    ...table(COMMAND_OPTIONS[command].map(optionRow)),
  ].join("\n");
}
