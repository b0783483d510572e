/**
 * fast-check generators shared by the kernel tests.
 *
 * @module
 */
import fc from "fast-check";

/** Small integers as floats: sums and products of them are exact in f32. */
export const smallInts = (length: number, min = -8, max = 8): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min, max }), { minLength: length, maxLength: length });

/** Floats in [-range, range] that are finite and not tiny (well-conditioned tests). */
export const floats = (length: number, range = 4): fc.Arbitrary<number[]> =>
  fc.array(
    fc.float({ min: -range, max: range, noNaN: true, noDefaultInfinity: true }).map((x) =>
      Math.fround(x)
    ),
    { minLength: length, maxLength: length },
  );

/** A shape with the given rank and axis sizes in [1, max]. */
export const shapeOf = (rank: number, max: number): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 1, max }), { minLength: rank, maxLength: rank });

/** Deterministic pseudo-random numbers (mulberry32) for inputs too large for fast-check. */
export const seededValues = (length: number, seed: number, scale = 1): Float32Array => {
  let s = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
};
