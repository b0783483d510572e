/**
 * `gsc eval`: re-evaluates a finished (or interrupted) run's checkpoint. The
 * run directory's `config.json` supplies the task, model and data; the
 * options here only choose the step, split and outputs.
 *
 * @module
 */
import { Result } from "effect";
import type { AdapterChoice } from "../gpu/device.ts";
import { ADAPTER_OPTION, readAdapter } from "./adapter_option.ts";
import { CliError, optionError } from "./errors.ts";
import { isDirectory, isFile } from "./files.ts";
import { OptionReader, type OptionSpec, readOptions } from "./spec.ts";

/** What `gsc eval` runs. Absent fields fall back to the run's own configuration. */
export interface EvalCommand {
  /** The run directory written by `gsc train` (holds `config.json`). */
  readonly run: string;
  /** The step whose checkpoint to evaluate; absent: the last finished step. */
  readonly step?: number;
  /** The split to evaluate; absent: the run's `evalSplit`. */
  readonly split?: string;
  /** Another location of the dataset; absent: the run's `dataRoot`. */
  readonly dataRoot?: string;
  /** Images drawn as PNG strips. */
  readonly strips: number;
  /** Per class, how many of the classes that took its pixels to print (0: none). */
  readonly confusion: number;
  /** The WebGPU adapter to evaluate on. */
  readonly adapter: AdapterChoice;
}

/** Every option of `gsc eval`, in help order. */
export const EVAL_OPTIONS: readonly OptionSpec[] = [
  { name: "run", value: "DIR", description: "run directory of gsc train (required)" },
  { name: "step", value: "N", description: "step to evaluate", defaultText: "last finished step" },
  {
    name: "split",
    value: "NAME",
    description: "split to evaluate",
    defaultText: "the run's eval split",
  },
  { name: "data-root", value: "DIR", description: "dataset folder", defaultText: "the run's" },
  { name: "strips", value: "N", description: "images drawn as PNG strips", defaultText: "0" },
  {
    name: "confusion",
    value: "N",
    description: "print, per class, its recall and the N classes that took most of its pixels " +
      "(the matrix is written as CSV either way)",
    defaultText: "0",
  },
  ADAPTER_OPTION,
  { name: "help", description: "show this help" },
];

/** Parses `gsc eval`'s options; the run directory must exist and hold `config.json`. */
export function parseEvalOptions(argv: readonly string[]): Result.Result<EvalCommand, CliError> {
  return Result.gen(function* () {
    const read = new OptionReader(yield* readOptions(argv, EVAL_OPTIONS));
    const run = read.text("run");
    if (run === undefined) {
      return yield* Result.fail(
        optionError("--run", "required: the run directory written by gsc train"),
      );
    }
    if (!isFile(`${run}/config.json`)) {
      return yield* Result.fail(
        optionError(
          "--run",
          isDirectory(run)
            ? `'${run}' has no config.json: not a run directory of gsc train`
            : `directory '${run}' not found`,
        ),
      );
    }
    const dataRoot = read.text("data-root");
    if (dataRoot !== undefined && !isDirectory(dataRoot)) {
      return yield* Result.fail(optionError("--data-root", `directory '${dataRoot}' not found`));
    }
    const split = read.text("split");
    if (split !== undefined && !/^[\w.-]+$/.test(split)) {
      return yield* Result.fail(
        new CliError({ option: "--split", reason: `not a split name: '${split}'` }),
      );
    }
    const step = read.has("step")
      ? yield* read.number("step", 0, { integer: true, min: 0 })
      : undefined;
    return {
      run,
      ...(step === undefined ? {} : { step }),
      ...(split === undefined ? {} : { split }),
      ...(dataRoot === undefined ? {} : { dataRoot }),
      strips: yield* read.number("strips", 0, { integer: true, min: 0 }),
      confusion: yield* read.number("confusion", 0, { integer: true, min: 0 }),
      adapter: yield* readAdapter(read),
    };
  });
}
