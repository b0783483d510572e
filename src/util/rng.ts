/**
 * A small seeded PRNG (xoshiro128**) whose whole state is four 32-bit words,
 * so it can be saved into a checkpoint and restored for an exact resume.
 * Math.random is never used by the data layer.
 *
 * @module
 */

/** The saved state of a {@link SeededRng}: four unsigned 32-bit words. */
export type RngState = readonly [number, number, number, number];

/** Mixes a 32-bit value (splitmix32's finaliser): spreads nearby seeds apart. */
function mix32(value: number): number {
  let z = (value + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** Hashes a seed and any labels (numbers or strings) into one 32-bit value. */
export function hashSeed(seed: number, ...labels: (number | string)[]): number {
  let h = mix32(seed >>> 0 ^ Math.floor(seed / 0x100000000));
  for (const label of labels) {
    if (typeof label === "number") {
      h = mix32(h ^ mix32(label >>> 0));
    } else {
      for (let i = 0; i < label.length; i++) h = mix32(h ^ label.charCodeAt(i));
      h = mix32(h ^ label.length);
    }
  }
  return h;
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** A deterministic random stream; `derive` makes independent child streams. */
export class SeededRng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** Seeds the stream from a number and optional labels (e.g. "test", epoch). */
  constructor(seed: number, ...labels: (number | string)[]) {
    let h = hashSeed(seed, ...labels);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      h = mix32(h + i);
      words.push(h);
    }
    // xoshiro must not start from the all-zero state.
    if (!words.some((w) => w !== 0)) words[0] = 1;
    [this.s0, this.s1, this.s2, this.s3] = words;
  }

  /** A stream restored from a saved state. */
  static fromState(state: RngState): SeededRng {
    const rng = new SeededRng(0);
    rng.setState(state);
    return rng;
  }

  /** The current state (copy it into a checkpoint to resume later). */
  getState(): RngState {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /** Restores a state saved with {@link getState}. */
  setState(state: RngState): void {
    [this.s0, this.s1, this.s2, this.s3] = state.map((w) => w | 0);
  }

  /** The next unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9);
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
  }

  /** A float in [0, 1) with 32 random bits. */
  float(): number {
    return this.nextUint32() / 0x100000000;
  }

  /** A float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** An integer in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** A standard normal sample (Box–Muller; one value per call keeps the state simple). */
  normal(): number {
    const u = 1 - this.float();
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)];
  }

  /** Shuffles an array in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** A child stream that depends on this stream's state and the labels, not on later draws. */
  derive(...labels: (number | string)[]): SeededRng {
    return new SeededRng(this.s0 ^ rotl(this.s2, 13), this.s1 >>> 0, this.s3 >>> 0, ...labels);
  }
}
