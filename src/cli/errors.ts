/**
 * The one error of the command line: a bad option, value or command. Its
 * message names the option (when there is one) and the problem, so `main`
 * prints it as is and exits with status 2.
 *
 * @module
 */
import { Data } from "effect";

/** A command line that cannot run: `option` names the flag (with dashes) or is absent. */
export class CliError extends Data.TaggedError("CliError")<{
  readonly option?: string;
  readonly reason: string;
}> {
  override get message(): string {
    return this.option === undefined ? this.reason : `${this.option}: ${this.reason}`;
  }
}

/** Shorthand for a {@link CliError} about one option. */
export const optionError = (option: string, reason: string): CliError =>
  new CliError({ option, reason });
