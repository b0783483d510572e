/**
 * A pool of whole GPU buffers bucketed by size class and usage. Released
 * buffers are kept for reuse: allocation is the slow part of WebGPU, and a
 * training step asks for the same sizes every iteration.
 *
 * @module
 */

/** Rounds a byte size up to its bucket: four classes per power of two (<= 25% waste). */
export const bucketSize = (bytes: number): number => {
  const size = Math.max(16, Math.ceil(bytes / 4) * 4);
  if (size <= 256) return Math.ceil(size / 16) * 16;
  const base = 2 ** Math.floor(Math.log2(size));
  const step = base / 4;
  return Math.ceil(size / step) * step;
};

/** How many buckets above a request's own a free buffer may come from (4: at most twice its bucket). */
const LARGER_BUCKETS = 4;

/** Counters a pool keeps, for benchmarks and leak checks. */
export interface PoolStats {
  /** Bytes of all buffers created and not destroyed. */
  readonly allocatedBytes: number;
  /** Highest `allocatedBytes` seen. */
  readonly peakBytes: number;
  /** Bytes of buffers currently handed out. */
  readonly inUseBytes: number;
  /** Highest `inUseBytes` seen: what the work needed at once, without the free lists. */
  readonly peakInUseBytes: number;
  /** Buffers created since the pool was made. */
  readonly created: number;
  /** Acquisitions served from the free lists. */
  readonly reused: number;
}

/** Size-bucketed free lists of GPU buffers. */
export class BufferPool {
  readonly #device: GPUDevice;
  readonly #free = new Map<string, GPUBuffer[]>();
  #allocated = 0;
  #peak = 0;
  #inUse = 0;
  #peakInUse = 0;
  #created = 0;
  #reused = 0;

  readonly #largest: number;

  constructor(device: GPUDevice) {
    this.#device = device;
    // The largest whole-word size createBuffer accepts: buckets above it are clamped to it.
    this.#largest = Math.floor(device.limits.maxBufferSize / 4) * 4;
  }

  /**
   * A buffer of at least `bytes` with exactly `usage`; `fresh` tells whether
   * it was just created (the caller may then check for allocation errors).
   */
  acquire(bytes: number, usage: GPUBufferUsageFlags): { buffer: GPUBuffer; fresh: boolean } {
    const reused = this.reuse(bytes, usage);
    return reused
      ? { buffer: reused, fresh: false }
      : { buffer: this.create(bytes, usage), fresh: true };
  }

  /** A free buffer for a request of `bytes` with exactly `usage`, or undefined when none fits. */
  reuse(bytes: number, usage: GPUBufferUsageFlags): GPUBuffer | undefined {
    const reused = this.#takeFree(this.#sizeFor(bytes), usage);
    if (!reused) return undefined;
    this.#inUse += reused.size;
    this.#peakInUse = Math.max(this.#peakInUse, this.#inUse);
    this.#reused++;
    return reused;
  }

  /** A new buffer for a request of `bytes` (its bucket's size) with `usage`. */
  create(bytes: number, usage: GPUBufferUsageFlags): GPUBuffer {
    const size = this.#sizeFor(bytes);
    this.#inUse += size;
    this.#peakInUse = Math.max(this.#peakInUse, this.#inUse);
    const buffer = this.#device.createBuffer({ size, usage });
    this.#created++;
    this.#allocated += size;
    this.#peak = Math.max(this.#peak, this.#allocated);
    return buffer;
  }

  /** The bytes a request gets: its bucket (a request under the device's limit may round up past it). */
  #sizeFor(bytes: number): number {
    return Math.max(Math.ceil(bytes / 4) * 4, Math.min(bucketSize(bytes), this.#largest));
  }

  /**
   * A free buffer of `size`'s bucket, or else of one of the next
   * {@link LARGER_BUCKETS} buckets up (at most twice its bucket): a step asks
   * for many sizes, and a free buffer of a neighbouring size serves as well
   * as a new one.
   */
  #takeFree(size: number, usage: GPUBufferUsageFlags): GPUBuffer | undefined {
    let bucket = size;
    for (let i = 0; i <= LARGER_BUCKETS && bucket <= this.#largest; i++) {
      const buffer = this.#free.get(`${usage}:${bucket}`)?.pop();
      if (buffer) return buffer;
      bucket = bucketSize(bucket + 1);
    }
    return undefined;
  }

  /** Returns a buffer for reuse. Commands already recorded on it stay valid. */
  release(buffer: GPUBuffer): void {
    const key = `${buffer.usage}:${buffer.size}`;
    this.#inUse -= buffer.size;
    const list = this.#free.get(key);
    if (list) list.push(buffer);
    else this.#free.set(key, [buffer]);
  }

  /** Destroys every free buffer (after a failed allocation, or on shutdown). */
  trim(): void {
    for (const list of this.#free.values()) {
      for (const buffer of list) {
        this.#allocated -= buffer.size;
        buffer.destroy();
      }
    }
    this.#free.clear();
  }

  /** Resets the peak to the current allocation (to measure one phase). */
  resetPeak(): void {
    this.#peak = this.#allocated;
    this.#peakInUse = this.#inUse;
  }

  /** The pool's counters. */
  stats(): PoolStats {
    return {
      allocatedBytes: this.#allocated,
      peakBytes: this.#peak,
      inUseBytes: this.#inUse,
      peakInUseBytes: this.#peakInUse,
      created: this.#created,
      reused: this.#reused,
    };
  }
}
