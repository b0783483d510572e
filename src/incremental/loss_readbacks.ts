/**
 * How training reads its losses back without waiting: each batch copies its
 * loss into a slot of one of two small buffers used in turn; once
 * {@link LOSS_READBACK_EVERY} batches filled one, its readback is started and
 * the previous one's collected (Deno resolves a buffer mapping about 10 ms
 * after it is asked, however early the GPU finished, so the collected one has
 * long completed). Only the last readback of an epoch is waited for.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import type { Gpu } from "../gpu/device.ts";
import type { GpuError } from "../gpu/errors.ts";
import { empty, type HostArray, startDownload, type Tensor } from "../tensor/tensor.ts";

/** Batches recorded between two loss readbacks. */
export const LOSS_READBACK_EVERY = 8;

/** Where an iteration leaves its loss: element `slot` of `losses`. */
export interface LossSlot {
  readonly losses: Tensor<"f32">;
  readonly slot: number;
}

/** The two loss buffers of an epoch and their readbacks. */
export interface LossReadbacks<A, E, R> {
  /** Where the next batch writes its loss. */
  readonly next: () => LossSlot;
  /** Records that the batch described by `item` wrote its loss at `next()`; may start a readback. */
  readonly written: (item: A) => Effect.Effect<void, GpuError | E, Gpu | R>;
  /** Starts the last readback and collects every one still pending. */
  readonly finish: Effect.Effect<void, GpuError | E, Gpu | R>;
}

/**
 * Loss buffers (allocated in the enclosing scope) whose readbacks hand each
 * batch's loss, with the `item` it was written for, to `report` in batch
 * order.
 */
export const makeLossReadbacks = <A, E, R>(
  report: (losses: HostArray, items: readonly A[]) => Effect.Effect<void, E, R>,
): Effect.Effect<LossReadbacks<A, E, R>, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const buffers = [
      yield* empty([LOSS_READBACK_EVERY], "f32"),
      yield* empty([LOSS_READBACK_EVERY], "f32"),
    ];
    let filling = 0;
    let items: A[] = [];
    // The readback started last and the items it holds.
    let inFlight: { values: Effect.Effect<HostArray[], GpuError>; items: A[] } | undefined;
    const collect = Effect.gen(function* () {
      if (!inFlight) return;
      const { values, items: held } = inFlight;
      inFlight = undefined;
      yield* report((yield* values)[0], held);
    });
    // Starts reading back the buffer being filled, then collects the previous readback.
    const turn = Effect.gen(function* () {
      if (items.length === 0) return;
      const values = yield* startDownload([buffers[filling]]);
      const held = items;
      items = [];
      filling = 1 - filling;
      yield* collect;
      inFlight = { values, items: held };
    });
    return {
      next: () => ({ losses: buffers[filling], slot: items.length }),
      written: (item: A) => {
        items.push(item);
        return items.length === LOSS_READBACK_EVERY ? turn : Effect.void;
      },
      finish: Effect.andThen(turn, collect),
    };
  });
