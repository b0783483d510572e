/**
 * The divergence guard: a run whose loss turns NaN or infinite, or whose
 * weights, momentum or method state do when a checkpoint is about to be
 * written, stops with a {@link DivergenceError} naming where it happened.
 * Nothing is written after that point, so the run's last good checkpoints
 * stay as they were.
 *
 * @module
 */
import { Data, Effect } from "effect";
import { CheckpointError } from "../nn/checkpoint.ts";

/** Where in a run the guard tripped: step, and (0-based) epoch and batch when known. */
export interface DivergencePlace {
  readonly step: number;
  readonly epoch?: number;
  readonly epochs?: number;
  readonly batch?: number;
  readonly batches?: number;
}

/** Training produced NaN or infinite values; the run stops without writing a checkpoint. */
export class DivergenceError extends Data.TaggedError("DivergenceError")<{
  readonly place: DivergencePlace;
  /** What was not finite, e.g. `the loss is NaN`. */
  readonly what: string;
  /** The run's checkpoint directory. */
  readonly checkpoints: string;
}> {
  override get message(): string {
    const p = this.place;
    const where = [`step ${p.step}`];
    if (p.epoch !== undefined) where.push(`epoch ${p.epoch + 1}/${p.epochs ?? "?"}`);
    if (p.batch !== undefined) where.push(`batch ${p.batch + 1}/${p.batches ?? "?"}`);
    const rate = p.step === 0 ? "--lr" : "--lr-next";
    const restart = p.step === 0
      ? "start again with a lower --lr"
      : `start a new run with a lower --lr-next; --step0 ${this.checkpoints}/step-0.safetensors ` +
        "reuses the finished step 0";
    return `training diverged at ${where.join(", ")}: ${this.what}. The run stopped before ` +
      `writing another checkpoint; the last good ones in ${this.checkpoints} are untouched. ` +
      `The learning rate (${rate}) is likely too high: ${restart}`;
  }
}

/** Fails with a {@link DivergenceError} when `loss` is NaN or infinite. */
export const checkLoss = (
  loss: number,
  place: DivergencePlace,
  checkpoints: string,
): Effect.Effect<void, DivergenceError> =>
  Number.isFinite(loss)
    ? Effect.void
    : Effect.fail(new DivergenceError({ place, what: `the loss is ${loss}`, checkpoints }));

/** Turns a checkpoint write refused for non-finite values into a {@link DivergenceError}. */
export const guardWrite = <A, E, R>(
  write: Effect.Effect<A, E | CheckpointError, R>,
  place: DivergencePlace,
  checkpoints: string,
): Effect.Effect<A, E | CheckpointError | DivergenceError, R> =>
  write.pipe(
    Effect.mapError((e) => {
      if (!(e instanceof CheckpointError) || e.problem !== "non-finite") return e;
      // The detail starts with the offending element, e.g. `element 12 is NaN; ...`.
      const value = e.detail.replace(/;.*$/, "");
      return new DivergenceError({
        place,
        what: `tensor ${e.tensor} is not finite (${value}), so ${e.file} was not written`,
        checkpoints,
      });
    }),
  );
