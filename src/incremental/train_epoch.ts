/**
 * One epoch of training: the batches of a loader stream, each recorded by
 * `trainBatch` without waiting for the GPU. Losses stay on the GPU and are
 * read back every {@link LOSS_READBACK_EVERY} batches (and at the epoch's
 * end), so the device is never drained for a progress line; every loss is
 * still checked for divergence and reported, a few batches late.
 *
 * @module
 */
import { Effect } from "effect";
import type { BatchStream } from "../data/loader.ts";
import { advancePoly, polyLr, type PolySchedule } from "../optim/poly.ts";
import { download, empty } from "../tensor/tensor.ts";
import { checkLoss } from "./divergence.ts";
import { trainBatch, type TrainContext } from "./train_batch.ts";
import type { RunEvent } from "./types.ts";

/** Batches recorded between two loss readbacks. */
export const LOSS_READBACK_EVERY = 8;

/** Where the epoch sits in the run (for events and divergence reports). */
export interface EpochPlace {
  readonly step: number;
  readonly epoch: number;
  readonly epochs: number;
  readonly batches: number;
  /** The run's checkpoint folder, named by a divergence report. */
  readonly checkpoints: string;
}

/** What an epoch leaves: its summed loss, images seen and the advanced schedule. */
export interface EpochResult {
  readonly lossSum: number;
  readonly images: number;
  readonly schedule: PolySchedule;
}

/** Trains the epoch's batches from `stream`, emitting one "batch" event per batch. */
export const trainEpoch = (
  context: TrainContext,
  stream: BatchStream,
  start: PolySchedule,
  place: EpochPlace,
  emit: (event: RunEvent) => void,
) =>
  Effect.scoped(Effect.gen(function* () {
    const started = performance.now();
    const losses = yield* empty([LOSS_READBACK_EVERY], "f32");
    let schedule = start;
    let lossSum = 0;
    let images = 0;
    let pending: { readonly batch: number; readonly size: number }[] = [];
    const drain = Effect.gen(function* () {
      if (pending.length === 0) return;
      const host = yield* download(losses);
      for (const [i, { batch, size }] of pending.entries()) {
        const loss = host[i];
        const { step, epoch, epochs, batches, checkpoints } = place;
        yield* checkLoss(loss, { step, epoch, epochs, batch, batches }, checkpoints);
        lossSum += loss;
        images += size;
        const seconds = (performance.now() - started) / 1000;
        emit({
          type: "batch",
          step,
          epoch,
          batch,
          batches,
          loss,
          imagesPerSecond: images / seconds,
        });
      }
      pending = [];
    });
    for (let b = 0; b < place.batches; b++) {
      const batch = yield* stream.nextEffect();
      if (!batch) break;
      yield* trainBatch(context, batch, polyLr(schedule), { losses, slot: pending.length });
      schedule = advancePoly(schedule);
      pending.push({ batch: b, size: batch.size });
      if (pending.length === LOSS_READBACK_EVERY) yield* drain;
    }
    yield* drain;
    return { lossSum, images, schedule } satisfies EpochResult;
  }));
