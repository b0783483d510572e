/**
 * Helpers of the CLI tests: unwrap a parse `Result`, and temporary folders
 * standing in for dataset roots and run directories.
 *
 * @module
 */
import { Result } from "effect";
import type { CliError } from "../../src/cli/errors.ts";
import { runDeno } from "../support/train_cli.ts";

/** The value of a successful parse; throws with the error message otherwise. */
export function ok<A>(result: Result.Result<A, CliError>): A {
  if (Result.isFailure(result)) throw new Error(`expected success, got: ${result.failure.message}`);
  return result.success;
}

/** The error message of a failed parse; throws when it succeeded. */
export function failure<A>(result: Result.Result<A, CliError>): string {
  if (Result.isSuccess(result)) {
    throw new Error(`expected a CliError, got ${JSON.stringify(result.success)}`);
  }
  return result.failure.message;
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(): { readonly path: string; readonly remove: () => void } {
  const path = Deno.makeTempDirSync({ prefix: "gsc-cli-" });
  return { path, remove: () => Deno.removeSync(path, { recursive: true }) };
}

/**
 * Deno's own lines about fetching npm packages ("Download https://..."),
 * printed on standard error by a process whose DENO_DIR is fresh, e.g. on a
 * machine without network that runs from a carried node_modules.
 */
// deno-lint-ignore no-control-regex -- the escape codes Deno colours the word with
const denoFetchLine = /^(\x1b\[[0-9;]*m)*Download(\x1b\[[0-9;]*m)* \S+\s*$/;

/** Standard error without Deno's package-fetch lines. */
export const withoutDenoFetches = (stderr: string): string =>
  stderr.split("\n").filter((line) => !denoFetchLine.test(line)).join("\n");

/** Runs `gsc` (src/cli/main.ts) in its own process: exit code, standard output and standard error. */
export const runGsc = async (
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> => {
  const { code, stdout, stderr } = await runDeno(["run", "-A", "src/cli/main.ts", ...args]);
  return { code, stdout, stderr: withoutDenoFetches(stderr) };
};
