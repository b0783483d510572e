/**
 * Building one batch of an epoch: read each sample, augment it with draws of
 * its own (seed, epoch, position), normalise and pack. Shared by the loader
 * (in the main thread) and its workers (`loader_worker.ts`): a batch depends
 * only on the plan, the epoch and its index, so either builds the same bytes.
 *
 * @module
 */
import { Effect } from "effect";
import type { DatasetInfo, SampleRef } from "./dataset.ts";
import type { SampleError } from "./errors.ts";
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

/** What a batch is built from: plain data, so a worker can be sent it. */
export interface BatchPlan {
  readonly samples: readonly SampleRef[];
  readonly info: DatasetInfo;
  readonly batchSize: number;
  readonly augment: Augment;
  /** Seed of the augmentation draws. */
  readonly seed: number;
  /** Remaps training indices (e.g. the step's targets or the evaluation LUT). */
  readonly labelLut?: LabelLut;
  /** Leave bad samples out of their batch (reported to `onSkip`) instead of failing. */
  readonly skipBad?: boolean;
  readonly mean?: readonly [number, number, number];
  readonly std?: readonly [number, number, number];
}

/** The order of epoch `epoch`'s samples (indices), shuffled from (seed, epoch) or not. */
export const epochOrder = (
  total: number,
  shuffle: boolean,
  seed: number,
  epoch: number,
): number[] => {
  const indices = Array.from({ length: total }, (_, i) => i);
  return shuffle ? new SeededRng(seed, "order", epoch).shuffle(indices) : indices;
};

/**
 * Reads, augments and packs batch `index` of an epoch whose sample order is
 * `order`. A sample that cannot be read fails the batch, or under `skipBad`
 * is left out and given to `onSkip`.
 */
export const buildPlannedBatch = async (
  plan: BatchPlan,
  order: readonly number[],
  epoch: number,
  index: number,
  onSkip: (name: string, error: SampleError) => void,
): Promise<Batch> => {
  const start = index * plan.batchSize;
  const end = Math.min(start + plan.batchSize, order.length);
  const items: {
    name: string;
    image: Uint8Array;
    label: Uint8Array;
    height: number;
    width: number;
  }[] = [];
  for (let position = start; position < end; position++) {
    const ref = plan.samples[order[position]];
    const read = await Effect.runPromise(Effect.result(readSample(ref, plan.info)));
    if (read._tag === "Failure") {
      if (!plan.skipBad) throw read.failure;
      onSkip(ref.name, read.failure);
      continue;
    }
    const rng = new SeededRng(plan.seed, "augment", epoch, position);
    const pair = applyAugment(read.success, plan.augment, rng);
    items.push({
      name: ref.name,
      image: pair.image.data,
      label: plan.labelLut ? applyLut(pair.label.data, plan.labelLut) : pair.label.data,
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
    normalizeInto({ width, height, data: it.image }, images, i * pixels * 3, plan.mean, plan.std);
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

/** The plan part of a loader's options. */
export const batchPlan = (options: BatchPlan): BatchPlan => ({
  samples: options.samples,
  info: options.info,
  batchSize: options.batchSize,
  augment: options.augment,
  seed: options.seed,
  ...(options.labelLut ? { labelLut: options.labelLut } : {}),
  ...(options.skipBad ? { skipBad: options.skipBad } : {}),
  ...(options.mean ? { mean: options.mean } : {}),
  ...(options.std ? { std: options.std } : {}),
});
