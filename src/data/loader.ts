/**
 * The batch loader: decodes, augments and batches ahead of the consumer (a
 * prefetch queue of N batches), so data work overlaps the GPU work that the
 * consumer awaits. Batches are plain typed arrays (NHWC float images, int32
 * labels); uploading them is the consumer's business. With a pool
 * (`loader_pool.ts`) worker threads build them, up to N at once; without,
 * this thread does, one at a time (`batch_build.ts` either way).
 *
 * Determinism: the order of epoch `e` comes from (seed, e) and the
 * augmentation of the sample at position `p` from (seed, e, p), independent
 * of timing. So `{ epoch, batch }` is the whole loader state: resume by
 * opening `epoch(e, batch)`.
 *
 * @module
 */
import { Effect } from "effect";
import type { DatasetInfo, SampleRef } from "./dataset.ts";
import type { SampleError, SkippedSample } from "./errors.ts";
import type { LabelLut } from "./labels.ts";
import type { Augment } from "./augment.ts";
import { type Batch, batchPlan, buildPlannedBatch, epochOrder } from "./batch_build.ts";
import type { LoaderPool } from "./loader_pool.ts";

/** One batch (defined with its builder in `batch_build.ts`). */
export type { Batch } from "./batch_build.ts";

/** Options of {@link createLoader}. */
export interface LoaderOptions {
  /** What the loader reads, for messages (e.g. `split val`). */
  readonly name?: string;
  readonly samples: readonly SampleRef[];
  readonly info: DatasetInfo;
  readonly batchSize: number;
  readonly augment: Augment;
  /** Seed of the shuffle and of the augmentation. */
  readonly seed: number;
  /** Shuffle each epoch. Default: true for training augmentation. */
  readonly shuffle?: boolean;
  /** Drop the last incomplete batch. Default: true for training augmentation. */
  readonly dropLast?: boolean;
  /** Batches prepared ahead. Default 4. */
  readonly prefetch?: number;
  /**
   * Workers that build the batches (`loader_pool.ts`), up to `prefetch` at
   * once; without, they are built in this thread, one at a time.
   */
  readonly pool?: LoaderPool;
  /** Remaps training indices (e.g. the step's targets or the evaluation LUT). */
  readonly labelLut?: LabelLut;
  /** Leave bad samples out of their batch (recorded in `skipped`) instead of failing. */
  readonly skipBad?: boolean;
  /** Normalisation; default ImageNet. */
  readonly mean?: readonly [number, number, number];
  readonly std?: readonly [number, number, number];
}

/** A running epoch: pull batches with `next` (or `for await`), stop early with `close`. */
export interface BatchStream extends AsyncIterable<Batch> {
  /** The next batch, or undefined after the last; rejects with a {@link SampleError}. */
  next(): Promise<Batch | undefined>;
  /** `next` as an Effect. */
  nextEffect(): Effect.Effect<Batch | undefined, SampleError>;
  /** Stops preparing batches. */
  close(): void;
  /** Position of the next batch to be returned: save it to resume. */
  position(): { readonly epoch: number; readonly batch: number };
  /** Batches built and waiting for `next` (at most the prefetch depth). */
  buffered(): number;
  /**
   * Resolves once the producer waits: the queue is full, the epoch is built to
   * its end, or the stream is closed or failed. With {@link buffered} it shows
   * how far ahead the loader is without timing it.
   */
  idle(): Promise<void>;
}

/** A loader over a fixed list of samples. */
export interface Loader {
  /** {@link LoaderOptions.name}, when given. */
  readonly name?: string;
  readonly batchesPerEpoch: number;
  /** Samples left out under `skipBad`, across all epochs (each reported once). */
  readonly skipped: readonly SkippedSample[];
  /** The sample order of an epoch (indices into `samples`). */
  order(epoch: number): number[];
  /** Starts epoch `epoch` at batch `startBatch` (default 0). */
  epoch(epoch: number, startBatch?: number): BatchStream;
}

/** Builds a loader; nothing is read until an epoch is started. */
export function createLoader(options: LoaderOptions): Loader {
  const training = options.augment.kind === "train";
  const shuffle = options.shuffle ?? training;
  const dropLast = options.dropLast ?? training;
  const total = options.samples.length;
  const batchesPerEpoch = dropLast
    ? Math.floor(total / options.batchSize)
    : Math.ceil(total / options.batchSize);
  const skipped: SkippedSample[] = [];
  const skippedNames = new Set<string>();

  const order = (epoch: number): number[] => epochOrder(total, shuffle, options.seed, epoch);

  const plan = batchPlan(options);
  const onSkip = (name: string, error: SampleError) => {
    if (skippedNames.has(name)) return;
    skippedNames.add(name);
    skipped.push({ name, error });
  };
  const pool = options.pool;
  const pooled = pool?.register(plan, shuffle);
  const buildBatch = async (epoch: number, epochOrder: number[], index: number) => {
    if (pool === undefined || pooled === undefined) {
      return await buildPlannedBatch(plan, epochOrder, epoch, index, onSkip);
    }
    const built = await pool.build(pooled, epoch, index);
    for (const { name, error } of built.skipped) onSkip(name, error);
    return built.batch;
  };

  const epoch = (epochNumber: number, startBatch = 0): BatchStream => {
    const epochOrder = order(epochNumber);
    const capacity = Math.max(1, options.prefetch ?? 4);
    const queue: Batch[] = [];
    let produced = startBatch;
    let consumed = startBatch;
    let failure: unknown = undefined;
    let closed = false;
    let wakeConsumer: (() => void) | undefined;
    let wakeProducer: (() => void) | undefined;
    // The producer waits (queue full) or has finished; `idle()` callers wait for that.
    let waiting = false;
    const idleWaiters: (() => void)[] = [];
    const park = () => {
      waiting = true;
      for (const resolve of idleWaiters.splice(0)) resolve();
    };
    const wake = () => {
      const resolve = wakeProducer;
      wakeProducer = undefined;
      if (resolve) {
        waiting = false;
        resolve();
      }
    };

    // Builds asked for and not yet queued, in batch order: one at a time in
    // this thread, up to the prefetch depth with workers.
    const asked: Promise<Batch>[] = [];
    let requested = startBatch;
    const ahead = pool ? capacity : 1;
    const producer = async () => {
      while (!closed && produced < batchesPerEpoch) {
        while (
          requested < batchesPerEpoch && asked.length < ahead &&
          queue.length + asked.length < capacity
        ) {
          const built = buildBatch(epochNumber, epochOrder, requested++);
          // Failures are taken in order below; this only keeps an early one from going unhandled.
          built.catch(() => {});
          asked.push(built);
        }
        if (asked.length === 0) {
          await new Promise<void>((resolve) => {
            wakeProducer = resolve;
            park();
          });
          continue;
        }
        try {
          const batch = await asked.shift()!;
          // Yield to the event loop so a consumer awaiting the GPU gets to run between batches.
          await new Promise((resolve) => setTimeout(resolve, 0));
          if (closed) return;
          queue.push(batch);
          produced++;
        } catch (error) {
          failure = error;
          closed = true;
        }
        wakeConsumer?.();
      }
    };
    // Also when closed mid-batch: a consumer waiting in `next` then sees the end.
    void producer().finally(() => {
      wakeConsumer?.();
      park();
    });

    const next = async (): Promise<Batch | undefined> => {
      while (true) {
        if (queue.length > 0) {
          const batch = queue.shift()!;
          consumed++;
          wake();
          return batch;
        }
        if (failure !== undefined) throw failure;
        if (closed || consumed >= batchesPerEpoch) return undefined;
        await new Promise<void>((resolve) => (wakeConsumer = resolve));
      }
    };
    const close = () => {
      closed = true;
      wake();
    };
    return {
      next,
      nextEffect: () => Effect.tryPromise({ try: next, catch: (error) => error as SampleError }),
      close,
      position: () => ({ epoch: epochNumber, batch: consumed }),
      buffered: () => queue.length,
      idle: () => waiting ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve)),
      async *[Symbol.asyncIterator]() {
        try {
          while (true) {
            const batch = await next();
            if (batch === undefined) return;
            yield batch;
          }
        } finally {
          close();
        }
      },
    };
  };

  return { name: options.name, batchesPerEpoch, skipped, order, epoch };
}
