/**
 * fast-check generators shared by the kernel tests.
 *
 * The float generators draw values uniformly over the stated range, not
 * uniformly over float32 bit patterns (`fc.float`, `fc.double`): those put
 * most draws below 1e-3 in magnitude, so a kernel would mostly be tested on
 * near-zeros. Values at the edges of a kernel's domain (zeros, denormals,
 * huge values, NaN) come from {@link edgeFloats}, used where an op must handle
 * them. `tests/support/arbitrary_test.ts` checks the spread of the draws.
 *
 * @module
 */
import fc from "fast-check";

/** Small integers as floats: sums and products of them are exact in f32. */
export const smallInts = (length: number, min = -8, max = 8): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min, max }), { minLength: length, maxLength: length });

// Grid steps across a range: fine enough for distinct values, coarse enough for exact f32
// (a range that is a power of two gives exactly representable grid points).
const STEPS = 1 << 22;

/**
 * One float32 uniform in [min, max] (a fine grid, rounded to f32). fast-check's bias toward
 * small integers is off: it would map to near-zero floats in the first runs.
 */
export const uniformFloat = (min: number, max: number): fc.Arbitrary<number> =>
  fc.noBias(fc.integer({ min: 0, max: STEPS })).map((i) =>
    Math.fround(min + (max - min) * (i / STEPS))
  );

const arrayOf = (arb: fc.Arbitrary<number>, length: number): fc.Arbitrary<number[]> =>
  fc.array(arb, { minLength: length, maxLength: length });

/** `length` floats uniform in [-range, range]: about 90% of them above 0.1 * range in size. */
export const floats = (length: number, range = 4): fc.Arbitrary<number[]> =>
  arrayOf(uniformFloat(-range, range), length);

/** `length` floats uniform in [min, max] (positive inputs: log, sqrt, scales, masks). */
export const floatsIn = (length: number, min: number, max: number): fc.Arbitrary<number[]> =>
  arrayOf(uniformFloat(min, max), length);

/**
 * `length` floats of either sign whose magnitude is uniform in [floor, range]: divisors and
 * norms kept away from 0 by construction (no draw is rejected).
 */
export const nonZeroFloats = (length: number, floor: number, range: number) =>
  arrayOf(nonZeroFloat(floor, range), length);

/** One float of either sign with magnitude uniform in [floor, range]. */
export const nonZeroFloat = (floor: number, range: number): fc.Arbitrary<number> =>
  fc.tuple(fc.boolean(), uniformFloat(floor, range)).map(([negative, m]) => negative ? -m : m);

/** The smallest and the largest positive float32 denormals. */
export const DENORMALS = [1.401298464324817e-45, 1.1754942106924411e-38] as const;

/** Which special values {@link edgeFloats} mixes in besides zeros, ±range and denormals. */
export interface EdgeOptions {
  /** A large magnitude (±large are drawn); none when undefined. */
  readonly large?: number;
  /** Draw NaN (for ops that must propagate it). */
  readonly nan?: boolean;
  /** Draw ±Infinity. */
  readonly infinity?: boolean;
}

/** The special values {@link edgeFloats} draws from with these options. */
export const edgeValues = (range: number, options: EdgeOptions = {}): number[] => {
  const values = [0, -0, range, -range, ...DENORMALS, ...DENORMALS.map((d) => -d)];
  if (options.large !== undefined) values.push(options.large, -options.large);
  if (options.nan) values.push(Number.NaN);
  if (options.infinity) values.push(Infinity, -Infinity);
  return values.map(Math.fround);
};

/**
 * `length` floats, about one in three a special value (see {@link edgeValues}), the rest
 * uniform in [-range, range].
 */
export const edgeFloats = (
  length: number,
  range = 4,
  options: EdgeOptions = {},
): fc.Arbitrary<number[]> =>
  arrayOf(
    fc.oneof(
      { weight: 2, arbitrary: uniformFloat(-range, range) },
      { weight: 1, arbitrary: fc.constantFrom(...edgeValues(range, options)) },
    ),
    length,
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
