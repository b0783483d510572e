/**
 * The error of a run that cannot start: a task, dataset or option problem
 * found before training, with the reason.
 *
 * @module
 */
import { Data } from "effect";

/** The run cannot start: a task or dataset problem, with the reason. */
export class RunSetupError extends Data.TaggedError("RunSetupError")<{
  readonly reason: string;
}> {
  override get message(): string {
    return this.reason;
  }
}
