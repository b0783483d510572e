/**
 * One epoch of training: the batches of a loader stream, each recorded by
 * `trainBatch` without waiting for the GPU. Losses stay on the GPU, in two
 * buffers used in turn: every {@link LOSS_READBACK_EVERY} batches the full
 * one's readback is started and the previous one's collected, so training
 * never waits for a readback (only the epoch's last does); every loss is
 * still checked for divergence and reported, a few batches late.
 *
 * @module
 */
import { Effect } from "effect";
import type { GpuError } from "../gpu/errors.ts";
import type { BatchStream } from "../data/loader.ts";
import { advancePoly, polyLr, type PolySchedule } from "../optim/poly.ts";
import { empty, type HostArray, startDownload, type Tensor } from "../tensor/tensor.ts";
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
    const buffers = [
      yield* empty([LOSS_READBACK_EVERY], "f32"),
      yield* empty([LOSS_READBACK_EVERY], "f32"),
    ];
    let filling = 0;
    let schedule = start;
    let lossSum = 0;
    let images = 0;
    type Pending = { readonly batch: number; readonly size: number }[];
    let pending: Pending = [];
    // The readback started last and the batches it holds, collected at the next turn.
    let inFlight: { values: Effect.Effect<HostArray[], GpuError>; batches: Pending } | undefined;
    const report = (host: HostArray, batches: Pending) =>
      Effect.gen(function* () {
        for (const [i, { batch, size }] of batches.entries()) {
          const loss = host[i];
          const { step, epoch, epochs, batches: count, checkpoints } = place;
          yield* checkLoss(loss, { step, epoch, epochs, batch, batches: count }, checkpoints);
          lossSum += loss;
          images += size;
          const seconds = (performance.now() - started) / 1000;
          emit({
            type: "batch",
            step,
            epoch,
            batch,
            batches: count,
            loss,
            imagesPerSecond: images / seconds,
          });
        }
      });
    const collect = Effect.gen(function* () {
      if (!inFlight) return;
      const { values, batches } = inFlight;
      inFlight = undefined;
      yield* report((yield* values)[0], batches);
    });
    // Starts reading back the buffer being filled, then collects the previous readback.
    const turn = Effect.gen(function* () {
      if (pending.length === 0) return;
      const values = yield* startDownload([buffers[filling] as Tensor]);
      const batches = pending;
      pending = [];
      filling = 1 - filling;
      yield* collect;
      inFlight = { values, batches };
    });
    for (let b = 0; b < place.batches; b++) {
      const batch = yield* stream.nextEffect();
      if (!batch) break;
      const losses = buffers[filling];
      yield* trainBatch(context, batch, polyLr(schedule), { losses, slot: pending.length });
      schedule = advancePoly(schedule);
      pending.push({ batch: b, size: batch.size });
      if (pending.length === LOSS_READBACK_EVERY) yield* turn;
    }
    yield* turn;
    yield* collect;
    return { lossSum, images, schedule } satisfies EpochResult;
  }));
