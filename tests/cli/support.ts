/**
 * Helpers of the CLI tests: unwrap a parse `Result`, and temporary folders
 * standing in for dataset roots and run directories.
 *
 * @module
 */
import { Result } from "effect";
import type { CliError } from "../../src/cli/errors.ts";

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
