/**
 * Decoded images and masks kept in memory, keyed by their file's path, length
 * and content hash: a run reads each training image once an epoch and each
 * evaluation image once a step, and on small images decoding costs far more
 * than reading the file (a `deno task demo` spent about 5 % of its time in the
 * JPEG and PNG decoders). A file that changes on disk hashes differently and
 * is decoded again; a file that fails to decode is never cached, so its error
 * is reported every time. Least recently used entries go first once the
 * decoded bytes pass the budget ({@link setDecodeCacheBytes}).
 *
 * The cached arrays are shared: callers must not write to them (the loader's
 * augmentation and normalisation only read their input).
 *
 * @module
 */
import { Effect } from "effect";

/** Decoded bytes the cache keeps by default (a 64-pixel sample is about 16 KiB). */
export const DEFAULT_DECODE_CACHE_BYTES = 256 * 2 ** 20;

interface Entry<A> {
  readonly value: A;
  readonly bytes: number;
}

let budget = DEFAULT_DECODE_CACHE_BYTES;
let held = 0;
const entries = new Map<string, Entry<unknown>>();
let hits = 0;
let misses = 0;

/**
 * Sets the cache's budget in decoded bytes (0 turns it off and empties it)
 * and returns the previous one.
 */
export const setDecodeCacheBytes = (bytes: number): number => {
  const previous = budget;
  budget = Math.max(0, bytes);
  evict();
  return previous;
};

/** Lookups served from the cache and decodes done since the process started. */
export const decodeCacheStats = (): { hits: number; misses: number; bytes: number } => ({
  hits,
  misses,
  bytes: held,
});

/** 32-bit FNV-1a of `bytes`. */
const fnv1a = (bytes: Uint8Array): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
};

const evict = () => {
  for (const [key, entry] of entries) {
    if (held <= budget) break;
    entries.delete(key);
    held -= entry.bytes;
  }
};

/**
 * `decode(bytes)` of the file `file` whose contents are `bytes`, from the
 * cache when the same file with the same contents was decoded before (`kind`
 * keeps an image's and a mask's decodings of one file apart). `size` gives a
 * value's decoded bytes.
 */
export const cachedDecode = <A, E>(
  kind: string,
  file: string,
  bytes: Uint8Array,
  decode: (bytes: Uint8Array) => Effect.Effect<A, E>,
  size: (value: A) => number,
): Effect.Effect<A, E> => {
  if (budget === 0) return decode(bytes);
  const key = `${kind}\u0000${file}\u0000${bytes.length}\u0000${fnv1a(bytes)}`;
  const found = entries.get(key) as Entry<A> | undefined;
  if (found) {
    hits++;
    entries.delete(key);
    entries.set(key, found);
    return Effect.succeed(found.value);
  }
  return Effect.tap(decode(bytes), (value) =>
    Effect.sync(() => {
      misses++;
      const entry = { value, bytes: size(value) };
      if (entry.bytes > budget) return;
      entries.set(key, entry);
      held += entry.bytes;
      evict();
    }));
};
