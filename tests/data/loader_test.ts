import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { createLoader } from "../../src/data/loader.ts";
import { trainTargetLut } from "../../src/data/labels.ts";
import { findTask, stepClasses } from "../../src/data/tasks.ts";
import { collectBatches, withTrainSplit } from "./fixtures.ts";

Deno.test("loader: training batches are NHWC crops, shuffled per epoch, deterministic and resumable", () =>
  withTrainSplit(10, async (dataset) => {
    const options = {
      samples: dataset.samples,
      info: dataset.info,
      batchSize: 3,
      augment: { kind: "train", cropSize: 8 } as const,
      seed: 11,
      prefetch: 2,
    };
    const loader = createLoader(options);
    assertEquals(loader.batchesPerEpoch, 3);
    const epoch0 = await collectBatches(loader.epoch(0));
    assertEquals(epoch0.length, 3);
    for (const b of epoch0) {
      assertEquals([b.size, b.height, b.width, b.images.length, b.labels.length], [
        3,
        8,
        8,
        3 * 8 * 8 * 3,
        3 * 8 * 8,
      ]);
      assert(b.labels.every((v) => (v >= 0 && v <= 20) || v === 255));
    }
    const names0 = epoch0.flatMap((b) => b.names);
    assertEquals(new Set(names0).size, 9);
    const names1 = (await collectBatches(loader.epoch(1))).flatMap((b) => b.names);
    assert(names0.join() !== names1.join(), "epochs are shuffled differently");
    // Another loader with the same seed gives the same bytes; a resumed epoch continues exactly.
    const again = await collectBatches(createLoader(options).epoch(0));
    assertEquals(again.map((b) => Array.from(b.images)), epoch0.map((b) => Array.from(b.images)));
    const resumed = await collectBatches(createLoader(options).epoch(0, 2));
    assertEquals(resumed.length, 1);
    assertEquals(Array.from(resumed[0].labels), Array.from(epoch0[2].labels));
    assertEquals(resumed[0].index, 2);
  }));

Deno.test("loader: evaluation keeps list order, keeps the last partial batch, applies the label LUT", () =>
  withTrainSplit(10, async (dataset) => {
    const lut = trainTargetLut(stepClasses(findTask("voc/15-5")!, 1));
    const loader = createLoader({
      samples: dataset.samples,
      info: dataset.info,
      batchSize: 4,
      augment: { kind: "eval", size: 12, mode: "centerCrop" },
      seed: 0,
      labelLut: lut,
    });
    const batches = await collectBatches(loader.epoch(0));
    assertEquals(batches.map((b) => b.size), [4, 4, 2]);
    assertEquals(batches.flatMap((b) => b.names), dataset.samples.map((s) => s.name));
    // Sample s0 has classes 0, 1, 16, 255 cycling: class 1 becomes 0 at step 1, 16 stays.
    assertEquals(Array.from(batches[0].labels.subarray(0, 4)), [0, 0, 16, 255]);
  }));

/** `promise`, or a failure naming `what` if it has not settled after `ms` (a hang, not a timing). */
const within = <T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled after ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
};

Deno.test("loader: prepares batches ahead while the consumer is busy, up to the prefetch depth", () =>
  withTrainSplit(10, async (dataset) => {
    // 10 samples in batches of 2: 5 batches, 3 prepared ahead.
    const loader = createLoader({
      samples: dataset.samples,
      info: dataset.info,
      batchSize: 2,
      augment: { kind: "train", cropSize: 6 },
      seed: 3,
      prefetch: 3,
    });
    const stream = loader.epoch(0);
    const first = await within(stream.next(), "first batch");
    assertEquals(first?.index, 0);
    // While the consumer "waits for the GPU", the producer fills the queue, and stops there.
    await within(stream.idle(), "producer filling the queue");
    assertEquals(stream.buffered(), 3);
    assertEquals(stream.position(), { epoch: 0, batch: 1 });
    // The next batch comes from the queue: taken before `next` awaits anything.
    const pending = stream.next();
    assertEquals(stream.buffered(), 2, "the next batch was already prepared");
    assertEquals((await within(pending, "second batch"))?.index, 1);
    assertEquals(stream.position(), { epoch: 0, batch: 2 });
    // Taking one lets the producer build the last batch; then it has nothing left to build.
    await within(stream.idle(), "producer building the last batch");
    assertEquals(stream.buffered(), 3);
    const rest: number[] = [];
    for (let b = await within(stream.next(), "rest"); b; b = await within(stream.next(), "rest")) {
      rest.push(b.index);
    }
    assertEquals(rest, [2, 3, 4]);
    assertEquals(stream.buffered(), 0);
    stream.close();
  }));

Deno.test("loader: close stops the producer and ends a pending next", () =>
  withTrainSplit(10, async (dataset) => {
    const options = {
      samples: dataset.samples,
      info: dataset.info,
      batchSize: 2,
      augment: { kind: "train", cropSize: 6 } as const,
      seed: 3,
      prefetch: 3,
    };
    const stream = createLoader(options).epoch(0);
    await within(stream.next(), "first batch");
    await within(stream.idle(), "producer filling the queue");
    assertEquals(stream.buffered(), 3);
    // Taking a batch wakes the producer; closing at once: it builds nothing more.
    await within(stream.next(), "second batch");
    stream.close();
    await within(stream.idle(), "producer stopping");
    assertEquals(stream.buffered(), 2);
    // A consumer waiting on an empty queue while the batch is being built gets the end.
    const fresh = createLoader(options).epoch(0);
    const waiting = fresh.next();
    assertEquals(fresh.buffered(), 0);
    fresh.close();
    assertEquals(await within(waiting, "next pending across close"), undefined);
    await within(fresh.idle(), "closed producer");
    assertEquals(fresh.buffered(), 0);
  }));
