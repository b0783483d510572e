/**
 * Loader workers build the same batches as the main thread, byte for byte
 * (training augmentation, several epochs, a resumed epoch, evaluation in
 * full size), report the samples they leave out under `skipBad` with the same
 * errors, and fail a stream with the same tagged error naming the bad file.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { type Batch, createLoader, type LoaderOptions } from "../../src/data/loader.ts";
import { createLoaderPool } from "../../src/data/loader_pool.ts";
import { setDecodeCacheBytes } from "../../src/data/decode_cache.ts";
import { collectBatches, withTrainSplit, writeFile } from "./fixtures.ts";

const bytesOf = (batches: readonly Batch[]) =>
  batches.map((b) => ({
    names: b.names,
    images: Array.from(new Uint32Array(b.images.buffer, b.images.byteOffset, b.images.length)),
    labels: Array.from(b.labels),
    shape: [b.size, b.height, b.width, b.epoch, b.index],
  }));

Deno.test("loader workers build the main thread's batches byte for byte", () =>
  withTrainSplit(11, async (dataset) => {
    const pool = createLoaderPool(2);
    try {
      const train: LoaderOptions = {
        samples: dataset.samples,
        info: dataset.info,
        batchSize: 3,
        augment: { kind: "train", cropSize: 8, scaleRange: [0.75, 1.5] },
        seed: 5,
        prefetch: 3,
        labelLut: Uint8Array.from({ length: 256 }, (_, v) => (v <= 6 ? v : 255)),
      };
      const here = createLoader(train);
      const there = createLoader({ ...train, pool });
      for (const epoch of [0, 1]) {
        assertEquals(
          bytesOf(await collectBatches(there.epoch(epoch))),
          bytesOf(await collectBatches(here.epoch(epoch))),
        );
      }
      assertEquals(
        bytesOf(await collectBatches(there.epoch(2, 1))),
        bytesOf(await collectBatches(here.epoch(2, 1))),
        "a resumed epoch",
      );
      const full: LoaderOptions = {
        samples: dataset.samples,
        info: dataset.info,
        batchSize: 1,
        augment: { kind: "eval", mode: "full" },
        seed: 0,
      };
      const evalHere = await collectBatches(createLoader(full).epoch(0));
      assertEquals(evalHere.length, 11);
      assertEquals(
        bytesOf(await collectBatches(createLoader({ ...full, pool }).epoch(0))),
        bytesOf(evalHere),
      );
    } finally {
      pool.close();
    }
  }));

Deno.test("a worker's bad sample is skipped or fails the stream as in the main thread", () =>
  withTrainSplit(11, async (dataset) => {
    const saved = setDecodeCacheBytes(0);
    const pool = createLoaderPool(1);
    try {
      const bad = dataset.samples[4];
      await writeFile(bad.label, new TextEncoder().encode("not a png"));
      const options: LoaderOptions = {
        samples: dataset.samples,
        info: dataset.info,
        batchSize: 4,
        augment: { kind: "train", cropSize: 8 },
        seed: 3,
        shuffle: false,
      };
      const skipHere = createLoader({ ...options, skipBad: true });
      const skipThere = createLoader({ ...options, skipBad: true, pool });
      assertEquals(
        bytesOf(await collectBatches(skipThere.epoch(0))),
        bytesOf(await collectBatches(skipHere.epoch(0))),
      );
      assertEquals(skipThere.skipped.map((s) => s.name), [bad.name]);
      const [here, there] = [skipHere.skipped[0].error, skipThere.skipped[0].error];
      assertEquals([there._tag, there.message], [here._tag, here.message]);
      assert(there.message.includes(bad.label), there.message);

      const failing = async (loader: ReturnType<typeof createLoader>) => {
        const stream = loader.epoch(0);
        try {
          await collectBatches(stream);
        } catch (error) {
          return error as { _tag: string; message: string; file: string };
        }
        throw new Error("the epoch did not fail");
      };
      const errorHere = await failing(createLoader(options));
      const errorThere = await failing(createLoader({ ...options, pool }));
      assertEquals(errorThere._tag, "CorruptFileError");
      assertEquals([errorThere._tag, errorThere.message, errorThere.file], [
        errorHere._tag,
        errorHere.message,
        errorHere.file,
      ]);
    } finally {
      pool.close();
      setDecodeCacheBytes(saved);
    }
  }));
