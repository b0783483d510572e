// The shared generators draw the values kernels meet: spread over the stated range (not
// piled up near 0 as uniform bit patterns are), f32-exact, and edge values where asked.
// Draws are collected through fc.assert, so fast-check's run-dependent bias applies as it
// does in the kernel tests.
import fc from "fast-check";
import {
  DENORMALS,
  edgeFloats,
  type EdgeOptions,
  edgeValues,
  floats,
  floatsIn,
  nonZeroFloats,
  shapeOf,
} from "./arbitrary.ts";

/** Every value drawn by `arb` over `numRuns` runs of a property (pinned seed). */
const drawn = <T>(arb: fc.Arbitrary<T[]>, numRuns = 100, seed = 7): T[] => {
  const out: T[] = [];
  fc.assert(
    fc.property(arb, (xs) => {
      out.push(...xs);
    }),
    { seed, numRuns },
  );
  return out;
};

const fraction = (xs: number[], keep: (x: number) => boolean) => xs.filter(keep).length / xs.length;

/**
 * Why `xs` is not spread uniformly in magnitude over [-range, range], or undefined when it
 * is: at least 80% of the draws above 0.1 * range (90% expected), at most 5% below 0.01 *
 * range (1% expected), a mean magnitude near range / 2, and both signs.
 */
const spreadProblem = (xs: number[], range: number): string | undefined => {
  const above = fraction(xs, (x) => Math.abs(x) > 0.1 * range);
  const tiny = fraction(xs, (x) => Math.abs(x) < 0.01 * range);
  const meanMagnitude = xs.reduce((s, x) => s + Math.abs(x), 0) / xs.length / range;
  const negative = fraction(xs, (x) => x < 0);
  if (above < 0.8) return `only ${(above * 100).toFixed(1)}% above 0.1 * range`;
  if (tiny > 0.05) return `${(tiny * 100).toFixed(1)}% below 0.01 * range`;
  if (meanMagnitude < 0.4 || meanMagnitude > 0.6) {
    return `mean magnitude ${meanMagnitude.toFixed(3)} * range`;
  }
  if (negative < 0.4 || negative > 0.6) return `${(negative * 100).toFixed(1)}% negative`;
  return undefined;
};

const assertFloat32 = (xs: number[], label: string) => {
  for (const x of xs) {
    if (!Number.isNaN(x) && Math.fround(x) !== x) throw new Error(`${label}: ${x} is not f32`);
  }
};

Deno.test("floats spread uniformly in magnitude over [-range, range], f32-exact", () => {
  for (const [length, range] of [[1, 4], [7, 4], [40, 2], [3, 30], [16, 0.5]]) {
    const xs = drawn(floats(length, range));
    const label = `floats(${length}, ${range})`;
    if (xs.length !== 100 * length) throw new Error(`${label}: ${xs.length} draws`);
    for (const x of xs) {
      if (!(Math.abs(x) <= range)) throw new Error(`${label}: ${x} outside the range`);
    }
    assertFloat32(xs, label);
    const problem = spreadProblem(xs, range);
    if (problem) throw new Error(`${label}: ${problem}`);
    if (new Set(xs).size < 0.9 * xs.length) throw new Error(`${label}: repeated values`);
  }
});

Deno.test("the spread check rejects draws uniform over float32 bit patterns", () => {
  // fc.float, which floats() used to wrap: most draws are below 1e-3 in magnitude.
  const bitPatterns = fc.array(
    fc.float({ min: -4, max: 4, noNaN: true, noDefaultInfinity: true }),
    { minLength: 4, maxLength: 4 },
  );
  const problem = spreadProblem(drawn(bitPatterns), 4);
  if (!problem?.includes("above 0.1 * range")) {
    throw new Error(`bit-pattern draws passed the spread check (${problem})`);
  }
});

Deno.test("floatsIn stays in [min, max] and spreads over it", () => {
  const xs = drawn(floatsIn(9, 0.5, 4.5));
  assertFloat32(xs, "floatsIn");
  if (!xs.every((x) => x >= 0.5 && x <= 4.5)) throw new Error("floatsIn left [0.5, 4.5]");
  // Shifted to [-2, 2], the draws must spread like floats(_, 2).
  const problem = spreadProblem(xs.map((x) => x - 2.5), 2);
  if (problem) throw new Error(`floatsIn: ${problem}`);
});

Deno.test("nonZeroFloats keep their magnitude in [floor, range], both signs", () => {
  const xs = drawn(nonZeroFloats(11, 0.25, 4));
  assertFloat32(xs, "nonZeroFloats");
  if (!xs.every((x) => Math.abs(x) >= 0.25 && Math.abs(x) <= 4)) {
    throw new Error("a nonZeroFloats magnitude left [0.25, 4]");
  }
  const problem = spreadProblem(xs, 4);
  if (problem) throw new Error(`nonZeroFloats: ${problem}`);
  // The floor is not a pile-up: few draws sit at it.
  if (fraction(xs, (x) => Math.abs(x) === 0.25) > 0.01) throw new Error("draws piled at the floor");
});

Deno.test("edgeFloats draw every edge value asked for, and only those", () => {
  const everything: EdgeOptions = { large: 1e30, nan: true, infinity: true };
  const plain = drawn(edgeFloats(8, 4));
  const all = drawn(edgeFloats(8, 4, everything));
  const cases: [number[], EdgeOptions][] = [[plain, {}], [all, everything]];
  for (const [xsArray, options] of cases) {
    for (const v of edgeValues(4, options)) {
      const count = xsArray.filter((x) => Object.is(x, v)).length;
      if (count < 10) throw new Error(`edge value ${v} drawn ${count} times`);
    }
    // The rest keeps the uniform spread: about two in three draws.
    const ordinary = xsArray.filter((x) => Math.abs(x) > DENORMALS[1] && Math.abs(x) < 4);
    if (ordinary.length < 0.55 * xsArray.length) throw new Error("too few ordinary draws");
    const problem = spreadProblem(ordinary, 4);
    if (problem) throw new Error(`edgeFloats' ordinary draws: ${problem}`);
    assertFloat32(xsArray, "edgeFloats");
  }
  if (plain.some((x) => !Number.isFinite(x) || Math.abs(x) > 4)) {
    throw new Error("edgeFloats without options drew a non-finite or large value");
  }
});

Deno.test("shapeOf draws every axis size from 1 to max", () => {
  const sizes = drawn(shapeOf(3, 6));
  for (let s = 1; s <= 6; s++) {
    if (!sizes.includes(s)) throw new Error(`axis size ${s} never drawn`);
  }
  if (sizes.some((s) => s < 1 || s > 6)) throw new Error("an axis size outside [1, 6]");
});
