/**
 * The decode cache: a sample read again comes from memory with the same
 * values as a fresh decode; a file rewritten with other contents, or one
 * that turned corrupt, is decoded (and refused) again; the budget bounds the
 * bytes held, and 0 turns the cache off.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Effect } from "effect";
import {
  decodeCacheStats,
  DEFAULT_DECODE_CACHE_BYTES,
  setDecodeCacheBytes,
} from "../../src/data/decode_cache.ts";
import { readSample } from "../../src/data/sample.ts";
import { openVoc } from "../../src/data/voc.ts";
import {
  failureOf,
  jpegOf,
  maskWith,
  paletteMask,
  tempDir,
  writeFile,
  writeVoc,
} from "./fixtures.ts";

const openTrain = (root: string) => Effect.runPromise(openVoc({ root, split: "train" }));

const plain = (s: { image: { data: Uint8Array }; label: { data: Uint8Array } }) => ({
  image: Array.from(s.image.data),
  label: Array.from(s.label.data),
});

Deno.test("a sample read twice decodes once and gives the values of a fresh decode", async () => {
  const dir = await tempDir();
  const saved = setDecodeCacheBytes(DEFAULT_DECODE_CACHE_BYTES);
  try {
    await writeVoc(dir.path, "train", [{ name: "a", classes: [0, 3] }, {
      name: "b",
      classes: [0, 15, 255],
    }]);
    const dataset = await openTrain(dir.path);
    const ref = dataset.samples[1];
    const before = decodeCacheStats();
    const first = await Effect.runPromise(readSample(ref, dataset.info));
    const second = await Effect.runPromise(readSample(ref, dataset.info));
    const after = decodeCacheStats();
    assertEquals(after.misses - before.misses, 2, "the image and the mask decoded once each");
    assertEquals(after.hits - before.hits, 2, "the second read came from the cache");
    assertEquals(plain(second), plain(first));
    setDecodeCacheBytes(0);
    const fresh = await Effect.runPromise(readSample(ref, dataset.info));
    assertEquals(plain(fresh), plain(first));
    assertEquals(decodeCacheStats().bytes, 0, "0 empties the cache");
  } finally {
    setDecodeCacheBytes(saved);
    await dir.cleanup();
  }
});

Deno.test("a rewritten file is decoded again, a corrupted one refused every time", async () => {
  const dir = await tempDir();
  const saved = setDecodeCacheBytes(DEFAULT_DECODE_CACHE_BYTES);
  try {
    await writeVoc(dir.path, "train", [{ name: "a", classes: [0, 3] }]);
    const dataset = await openTrain(dir.path);
    const ref = dataset.samples[0];
    const first = await Effect.runPromise(readSample(ref, dataset.info));
    assert(first.label.data.includes(3));
    // Same size, other classes and another image.
    await writeFile(ref.label, paletteMask(8, 8, maskWith(8, 8, [0, 7])));
    await writeFile(ref.image, await jpegOf(8, 8, 5));
    const rewritten = await Effect.runPromise(readSample(ref, dataset.info));
    assert(rewritten.label.data.includes(7) && !rewritten.label.data.includes(3));
    assert(plain(rewritten).image.join() !== plain(first).image.join(), "the new image is read");
    const mask = await Deno.readFile(ref.label);
    await writeFile(ref.label, mask.subarray(0, mask.length - 9));
    for (let i = 0; i < 2; i++) {
      const failure = await failureOf(readSample(ref, dataset.info));
      assertEquals((failure as { _tag: string })._tag, "CorruptFileError");
    }
  } finally {
    setDecodeCacheBytes(saved);
    await dir.cleanup();
  }
});

Deno.test("the cache holds at most its budget, dropping the least recently used first", async () => {
  const dir = await tempDir();
  // An 8x8 sample decodes to 192 image bytes and 64 mask bytes.
  const saved = setDecodeCacheBytes(0);
  try {
    const names = ["a", "b", "c", "d"];
    await writeVoc(dir.path, "train", names.map((name) => ({ name, classes: [0, 3] })));
    const dataset = await openTrain(dir.path);
    setDecodeCacheBytes(2 * 256);
    const read = (i: number) => Effect.runPromise(readSample(dataset.samples[i], dataset.info));
    await read(0);
    await read(1);
    await read(0); // 0 is now the most recent
    await read(2); // drops 1
    assert(decodeCacheStats().bytes <= 2 * 256, `${decodeCacheStats().bytes} bytes held`);
    const before = decodeCacheStats();
    await read(0);
    assertEquals(decodeCacheStats().hits - before.hits, 2, "sample 0 stayed");
    await read(1);
    assertEquals(decodeCacheStats().misses - before.misses, 2, "sample 1 was dropped");
  } finally {
    setDecodeCacheBytes(saved);
    await dir.cleanup();
  }
});
