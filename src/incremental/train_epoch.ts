/**
 * One epoch of training: the batches of a loader stream, each recorded by
 * `trainBatch` without waiting for the GPU. Losses stay on the GPU and are
 * read back without waiting (`loss_readbacks.ts`: only the epoch's last
 * readback is waited for); every loss is still checked for divergence and
 * reported, a few batches late.
 *
 * @module
 */
import { Effect } from "effect";
import type { BatchStream } from "../data/loader.ts";
import { advancePoly, polyLr, type PolySchedule } from "../optim/poly.ts";
import { checkLoss } from "./divergence.ts";
import { trainBatch, type TrainContext } from "./train_batch.ts";
import { makeLossReadbacks } from "./loss_readbacks.ts";
import type { RunEvent } from "./types.ts";

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
    let schedule = start;
    let lossSum = 0;
    let images = 0;
    const { step, epoch, epochs, batches, checkpoints } = place;
    const readbacks = yield* makeLossReadbacks(
      (losses, items: readonly { readonly batch: number; readonly size: number }[]) =>
        Effect.gen(function* () {
          for (const [i, { batch, size }] of items.entries()) {
            const loss = losses[i];
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
        }),
    );
    for (let b = 0; b < place.batches; b++) {
      const batch = yield* stream.nextEffect();
      if (!batch) break;
      yield* trainBatch(context, batch, polyLr(schedule), readbacks.next());
      schedule = advancePoly(schedule);
      yield* readbacks.written({ batch: b, size: batch.size });
    }
    yield* readbacks.finish;
    return { lossSum, images, schedule } satisfies EpochResult;
  }));
