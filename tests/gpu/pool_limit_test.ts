/**
 * The buffer pool against the device's maxBufferSize, on a stand-in device
 * (no GPU, no memory): every request the recorder lets through (at most the
 * limit) gets a buffer createBuffer accepts, even where the request's size
 * bucket lies past the limit (llvmpipe's limit, 2^31 - 1, is not a bucket).
 */
import fc from "fast-check";
import { bucketSize, BufferPool } from "../../src/gpu/pool.ts";

/** A device that only records the sizes asked of createBuffer and refuses those over its limit. */
const standIn = (maxBufferSize: number) => {
  const sizes: number[] = [];
  const device = {
    limits: { maxBufferSize },
    createBuffer: ({ size, usage }: GPUBufferDescriptor) => {
      if (size > maxBufferSize || size % 4 !== 0) {
        throw new Error(`createBuffer(${size}) with maxBufferSize ${maxBufferSize}`);
      }
      sizes.push(size);
      return { size, usage, destroy() {} };
    },
  };
  return { pool: new BufferPool(device as unknown as GPUDevice), sizes };
};

// llvmpipe's, a power of two, Vulkan's common 2^32 - 1 or 4, and limits between buckets.
const LIMITS = [2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32 - 4, 3 * 2 ** 28 + 12, 2 ** 28 + 2];
const USAGE = 0x80 | 0x8; // STORAGE | COPY_DST

Deno.test("pool: a request up to maxBufferSize gets a buffer within it, near and far from the limit", () => {
  let clamped = 0;
  for (const limit of LIMITS) {
    const words = Math.floor(limit / 4);
    fc.assert(
      fc.property(
        fc.oneof(
          // The last bucket below the limit and everything above it, word by word near the top.
          fc.integer({ min: 0, max: 64 }).map((k) => (words - k) * 4),
          fc.integer({ min: Math.floor(words * 0.74), max: words }).map((w) => w * 4),
          fc.integer({ min: 1, max: 1 << 20 }).map((w) => w * 4),
        ),
        (bytes) => {
          const { pool, sizes } = standIn(limit);
          const { buffer, fresh } = pool.acquire(bytes, USAGE);
          const size = sizes[0];
          if (!fresh || buffer.size !== size) throw new Error("not a fresh buffer");
          if (size < bytes || size > limit) throw new Error(`${bytes} -> ${size} (limit ${limit})`);
          // Below the limit the buckets are unchanged; past it the buffer is the largest allowed.
          if (bucketSize(bytes) <= limit) {
            if (size !== bucketSize(bytes)) throw new Error(`${bytes}: bucket ${size}`);
          } else {
            clamped++;
            if (size !== words * 4) throw new Error(`${bytes}: clamped to ${size}`);
          }
          // The clamped size is its own free list: the same request reuses the buffer.
          pool.release(buffer);
          const again = pool.acquire(bytes, USAGE);
          if (again.fresh || again.buffer !== buffer) throw new Error("released buffer not reused");
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  }
  // Requests whose bucket lies past the limit were among those tried (not only the easy side).
  if (clamped < 200) throw new Error(`only ${clamped} requests had a bucket past the limit`);
});

Deno.test("pool: the in-use peak counts buffers handed out at once, the allocated peak the free lists too", () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ words: fc.integer({ min: 1, max: 4096 }), keep: fc.boolean() }), {
        minLength: 1,
        maxLength: 40,
      }),
      (requests) => {
        const { pool } = standIn(2 ** 31 - 1);
        const held: GPUBuffer[] = [];
        let inUse = 0;
        let peakInUse = 0;
        for (const { words, keep } of requests) {
          const { buffer } = pool.acquire(words * 4, USAGE);
          inUse += buffer.size;
          peakInUse = Math.max(peakInUse, inUse);
          if (keep) {
            held.push(buffer);
          } else {
            pool.release(buffer);
            inUse -= buffer.size;
          }
        }
        const stats = pool.stats();
        if (stats.peakInUseBytes !== peakInUse) {
          throw new Error(`in-use peak ${stats.peakInUseBytes}, expected ${peakInUse}`);
        }
        if (stats.inUseBytes !== inUse) throw new Error(`in use ${stats.inUseBytes} != ${inUse}`);
        if (stats.peakBytes < stats.peakInUseBytes) throw new Error("allocated peak below in-use");
        pool.resetPeak();
        if (pool.stats().peakInUseBytes !== inUse) throw new Error("resetPeak kept the old peak");
      },
    ),
    { seed: 5, numRuns: 200 },
  );
});

Deno.test("pool: a free buffer up to four buckets (at most twice its bucket) up serves a request, not further", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 64, max: 1 << 22 }),
      fc.integer({ min: 1, max: 8 }),
      (words, up) => {
        const { pool, sizes } = standIn(2 ** 31 - 1);
        const bytes = words * 4;
        // A buffer `up` buckets above the request's own.
        let bucket = bucketSize(bytes);
        for (let i = 0; i < up; i++) bucket = bucketSize(bucket + 1);
        const { buffer } = pool.acquire(bucket, USAGE);
        pool.release(buffer);
        const got = pool.acquire(bytes, USAGE);
        if (up <= 4) {
          if (got.fresh || got.buffer !== buffer) throw new Error(`${up} buckets up: not reused`);
          if (buffer.size > 2 * bucketSize(bytes)) {
            throw new Error(`${buffer.size} for ${bytes} bytes`);
          }
        } else if (!got.fresh || sizes.length !== 2) {
          throw new Error(`${up} buckets up: reused a buffer of ${buffer.size} for ${bytes} bytes`);
        }
      },
    ),
    { seed: 9, numRuns: 300 },
  );
});
