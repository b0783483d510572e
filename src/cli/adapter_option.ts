/**
 * `--adapter auto|gpu|cpu`, shared by `gsc train` and `gsc eval`: which WebGPU
 * adapter runs the command. `auto` takes what WebGPU offers first, `gpu` fails
 * unless that is a GPU, `cpu` asks for the CPU (fallback) adapter, e.g. to
 * reproduce a run made on llvmpipe bit for bit.
 *
 * @module
 */
import type { Result } from "effect";
import { ADAPTER_CHOICES, type AdapterChoice } from "../gpu/device.ts";
import type { CliError } from "./errors.ts";
import type { OptionReader, OptionSpec } from "./spec.ts";

/** The option's row in a command's table. */
export const ADAPTER_OPTION: OptionSpec = {
  name: "adapter",
  value: "KIND",
  description: `${ADAPTER_CHOICES.join("|")}: the WebGPU adapter (gpu: fail without one; ` +
    "cpu: Mesa's llvmpipe)",
  defaultText: "auto",
};

/** The adapter a command line asks for. */
export const readAdapter = (read: OptionReader): Result.Result<AdapterChoice, CliError> =>
  read.choice("adapter", "auto", ADAPTER_CHOICES);
