/**
 * The batch loader: decodes, augments and batches ahead of the consumer (a
 * prefetch queue of N batches), so data work overlaps the GPU work that the
 * consumer awaits. Batches are plain typed arrays (NHWC float images, int32
 * labels); uploading them is the consumer's business.
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
import { applyLut, type LabelLut } from "./labels.ts";
import { applyAugment, type Augment, normalizeInto } from "./augment.ts";
import { SeededRng } from "../util/rng.ts";
import { readSample } from "./sample.ts";

/** One batch: `size` images of `height`x`width`, NHWC. */
export interface Batch {
  /** size*height*width*3 normalised floats, NHWC. */
  readonly images: Float32Array;
  /** size*height*width class indices (255 = ignore). */
  readonly labels: Int32Array;
  /** Sample names, in batch order. */
  readonly names: readonly string[];
  readonly size: number;
  readonly height: number;
  readonly width: number;
  /** Epoch and batch index this batch belongs to. */
  readonly epoch: number;
  readonly index: number;
}

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

  const order = (epoch: number): number[] => {
    const indices = Array.from({ length: total }, (_, i) => i);
    return shuffle ? new SeededRng(options.seed, "order", epoch).shuffle(indices) : indices;
  };

  /** Reads, augments and packs the batch `index` of an epoch's order. */
  const buildBatch = async (epoch: number, epochOrder: number[], index: number): Promise<Batch> => {
    const start = index * options.batchSize;
    const positions = epochOrder.slice(start, Math.min(start + options.batchSize, total)).map((
      _,
      i,
    ) => start + i);
    const items: {
      name: string;
      image: Uint8Array;
      label: Uint8Array;
      height: number;
      width: number;
    }[] = [];
    for (const position of positions) {
      const ref = options.samples[epochOrder[position]];
      const read = await Effect.runPromise(Effect.result(readSample(ref, options.info)));
      if (read._tag === "Failure") {
        if (!options.skipBad) throw read.failure;
        if (!skippedNames.has(ref.name)) {
          skippedNames.add(ref.name);
          skipped.push({ name: ref.name, error: read.failure });
        }
        continue;
      }
      const rng = new SeededRng(options.seed, "augment", epoch, position);
      const pair = applyAugment(read.success, options.augment, rng);
      items.push({
        name: ref.name,
        image: pair.image.data,
        label: options.labelLut ? applyLut(pair.label.data, options.labelLut) : pair.label.data,
        height: pair.image.height,
        width: pair.image.width,
      });
    }
    const height = items[0]?.height ?? 0;
    const width = items[0]?.width ?? 0;
    if (items.some((it) => it.height !== height || it.width !== width)) {
      throw new RangeError("batch items differ in size: use a crop or a fixed eval size");
    }
    const pixels = height * width;
    const images = new Float32Array(items.length * pixels * 3);
    const labels = new Int32Array(items.length * pixels);
    items.forEach((it, i) => {
      normalizeInto(
        { width, height, data: it.image },
        images,
        i * pixels * 3,
        options.mean,
        options.std,
      );
      labels.set(it.label, i * pixels);
    });
    return {
      images,
      labels,
      names: items.map((it) => it.name),
      size: items.length,
      height,
      width,
      epoch,
      index,
    };
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

    const producer = async () => {
      while (!closed && produced < batchesPerEpoch) {
        if (queue.length >= capacity) {
          await new Promise<void>((resolve) => {
            wakeProducer = resolve;
            park();
          });
          continue;
        }
        try {
          const batch = await buildBatch(epochNumber, epochOrder, produced);
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
