import fc from "fast-check";
import { Effect } from "effect";
import {
  distance,
  distanceBackward,
  type DistanceKindName,
  l2Normalize,
  l2NormalizeBackward,
} from "../../src/ops/distance.ts";
import type { Reduction } from "../../src/ops/loss.ts";
import {
  distanceBackwardReference,
  distanceReference,
  l2NormalizeBackwardReference,
  l2NormalizeReference,
} from "../reference/distance.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, EPS32, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { floats, floatsIn, shapeOf } from "../support/arbitrary.ts";

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

// Rows of a: mostly uniform values, some all-zero (the eps guard: the norm is eps, the
// gradient g / eps) and some with zeroed entries. Rows of b: independent, or a copy of a's
// row (L2 distance 0, its gradient's a = b branch; cosine distance 0 from cancellation),
// a scaled or negated copy, or zero.
const rowOf = (c: number, range: number) =>
  fc.oneof(
    { weight: 6, arbitrary: floats(c, range) },
    { weight: 1, arbitrary: fc.constant(new Array<number>(c).fill(0)) },
    {
      weight: 1,
      arbitrary: fc.tuple(floats(c, range), fc.array(fc.boolean(), { minLength: c, maxLength: c }))
        .map(([x, z]) => x.map((v, k) => (z[k] ? 0 : v))),
    },
  );

const partnerOf = (row: number[], range: number) =>
  fc.oneof(
    { weight: 4, arbitrary: floats(row.length, range) },
    { weight: 1, arbitrary: fc.constant(row) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(-1, 0.5, 2).map((k) => row.map((v) => Math.fround(k * v))),
    },
    { weight: 1, arbitrary: fc.constant(new Array<number>(row.length).fill(0)) },
  );

// Pixels [N, H, W] and channels, rows of a and b as above, an upstream gradient.
const cases = fc.record({
  shape: shapeOf(3, 5),
  channels: fc.integer({ min: 1, max: 17 }),
  kind: fc.constantFrom<DistanceKindName>("l2Squared", "l2", "cosine"),
  reduction: fc.constantFrom<Reduction>("none", "sum", "mean"),
}).chain((c) => {
  const p = sizeOf(c.shape);
  const n = p * c.channels;
  return fc.array(rowOf(c.channels, 3), { minLength: p, maxLength: p }).chain((aRows) =>
    fc.record({
      c: fc.constant(c),
      a: fc.constant(aRows.flat()),
      b: fc.tuple(...aRows.map((row) => partnerOf(row, 3))).map((rows) => rows.flat()),
      g: floats(n, 2),
    })
  );
});

// Tolerances. a - b of f32 inputs is one rounding of the exact difference, so the L2
// distances and their gradients are sums of non-negative terms: relative. Cosine cancels
// (1 - cos of aligned rows, b / (na nb) - cos a / na^2): its tolerances are scaled to the
// sum of the |terms|, with <|a|, |b|> for <a, b> (a dot product's error is relative to it).
const ulps = (channels: number) => 2 * (channels + 4) * EPS32;

const cosineTerms = (a: number[], b: number[], base: number, c: number, eps = 1e-8) => {
  let aa = 0;
  let bb = 0;
  let abs = 0;
  for (let k = 0; k < c; k++) {
    aa += a[base + k] ** 2;
    bb += b[base + k] ** 2;
    abs += Math.abs(a[base + k] * b[base + k]);
  }
  const na = Math.max(Math.sqrt(aa), eps);
  const nb = Math.max(Math.sqrt(bb), eps);
  return { na, nb, inv: 1 / (na * nb), cosTerms: abs / (na * nb) };
};

/** Absolute tolerances of the distance value and of both gradients. */
const distanceAtol = (
  kind: DistanceKindName,
  a: number[],
  b: number[],
  channels: number,
  g: number[],
  reduction: Reduction,
) => {
  const pixels = a.length / channels;
  const tol = ulps(channels);
  const value: number[] = [];
  const da: number[] = [];
  const db: number[] = [];
  for (let p = 0; p < pixels; p++) {
    const base = p * channels;
    const u = Math.abs(reduction === "none" ? g[p] : reduction === "sum" ? g[0] : g[0] / pixels);
    if (kind !== "cosine") {
      value.push(0);
      for (let k = 0; k < channels; k++) da.push(0), db.push(0);
      continue;
    }
    const { na, nb, inv, cosTerms } = cosineTerms(a, b, base, channels);
    value.push(tol * (1 + cosTerms));
    for (let k = 0; k < channels; k++) {
      da.push(tol * u * (Math.abs(b[base + k]) * inv + cosTerms * Math.abs(a[base + k]) / na ** 2));
      db.push(tol * u * (Math.abs(a[base + k]) * inv + cosTerms * Math.abs(b[base + k]) / nb ** 2));
    }
  }
  const reduced = reduction === "none"
    ? value
    : [value.reduce((x, y) => x + y, 0) / (reduction === "mean" ? pixels : 1)];
  return { value: reduced, da, db, rtol: tol };
};

Deno.test({
  name: "distances and their gradients for both inputs match the float64 reference",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ c, a, b, g }) => {
        const p = sizeOf(c.shape);
        const gRef = c.reduction === "none" ? g.slice(0, p) : [g[0]];
        const out = await runGpu(Effect.gen(function* () {
          const at = yield* fromArray(a, [...c.shape, c.channels], "f32");
          const bt = yield* fromArray(b, [...c.shape, c.channels], "f32");
          const options = { reduction: c.reduction };
          const r = yield* distance(c.kind, at, bt, options);
          const gt = yield* fromArray(gRef, r.value.shape, "f32");
          const d = yield* distanceBackward(c.kind, at, bt, gt, r.totals, options);
          return {
            value: yield* download(r.value),
            da: yield* download(d.a),
            db: yield* download(d.b),
          };
        }));
        const atol = distanceAtol(c.kind, a, b, c.channels, gRef, c.reduction);
        const value = distanceReference(c.kind, a, b, c.channels, c.reduction);
        assertClose(out.value, value, atol.value, atol.rtol, c.kind);
        const ref = distanceBackwardReference(c.kind, a, b, c.channels, gRef, c.reduction);
        assertClose(out.da, ref.a, atol.da, atol.rtol, `${c.kind} da`);
        assertClose(out.db, ref.b, atol.db, atol.rtol, `${c.kind} db`);
      }),
      { seed: 42, numRuns: 40 },
    );
  },
});

const finiteDifference = (f: (x: number[]) => number, x: number[], h = 1e-6): number[] =>
  x.map((_, i) => {
    const plus = [...x];
    const minus = [...x];
    plus[i] += h;
    minus[i] -= h;
    return (f(plus) - f(minus)) / (2 * h);
  });

const dot = (v: number[], w: ArrayLike<number>) => v.reduce((s, x, i) => s + x * w[i], 0);

Deno.test({
  name: "reference gradients of the distances and the normalisation equal finite differences",
  fn: () => {
    const small = fc.record({
      p: fc.integer({ min: 1, max: 4 }),
      c: fc.integer({ min: 1, max: 6 }),
      kind: fc.constantFrom<DistanceKindName>("l2Squared", "l2", "cosine"),
      reduction: fc.constantFrom<Reduction>("none", "sum", "mean"),
    }).chain((k) =>
      fc.record({
        k: fc.constant(k),
        // Away from 0: the norms' kinks (|a| = eps, a = b) have no derivative.
        a: floatsIn(k.p * k.c, 0.2, 2),
        b: floats(k.p * k.c, 2).map((b) => b.map((v) => v - 2.5)),
        g: floats(k.p * k.c, 1),
      })
    );
    fc.assert(
      fc.property(small, ({ k, a, b, g }) => {
        const gr = k.reduction === "none" ? g.slice(0, k.p) : [0.7];
        const ref = distanceBackwardReference(k.kind, a, b, k.c, gr, k.reduction);
        const fa = (x: number[]) => dot(distanceReference(k.kind, x, b, k.c, k.reduction), gr);
        const fb = (x: number[]) => dot(distanceReference(k.kind, a, x, k.c, k.reduction), gr);
        assertClose(ref.a, finiteDifference(fa, a), 1e-6, 1e-5, `${k.kind} a`);
        assertClose(ref.b, finiteDifference(fb, b), 1e-6, 1e-5, `${k.kind} b`);
        const fn = (x: number[]) => dot(l2NormalizeReference(x, k.c), g);
        assertClose(
          l2NormalizeBackwardReference(b, g, k.c),
          finiteDifference(fn, b),
          1e-6,
          1e-5,
          "normalize",
        );
      }),
      { seed: 42, numRuns: 60 },
    );
  },
});

Deno.test({
  name: "L2-normalisation and its backward match the reference, zero pixels included",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ c, a, g }) => {
        const shape = [...c.shape, c.channels];
        const out = await runGpu(Effect.gen(function* () {
          const at = yield* fromArray(a, shape, "f32");
          const gt = yield* fromArray(g, shape, "f32");
          const y = yield* l2Normalize(at);
          return { y: yield* download(y), da: yield* download(yield* l2NormalizeBackward(at, gt)) };
        }));
        const tol = ulps(c.channels);
        assertClose(out.y, l2NormalizeReference(a, c.channels), 0, tol, "y");
        // (g - y <y, g>) / |a| cancels: atol from (|g| + |y| <|y|, |g|>) / |a|. At a zero
        // pixel the gradient is g / eps: huge, and within the rtol.
        const y = l2NormalizeReference(a, c.channels);
        const atol = a.map((_, i) => {
          const base = i - (i % c.channels);
          let n = 0;
          let yg = 0;
          for (let k = 0; k < c.channels; k++) {
            n += a[base + k] ** 2;
            yg += Math.abs(y[base + k] * g[base + k]);
          }
          n = Math.sqrt(n);
          return n <= 1e-8 ? 0 : tol * (Math.abs(g[i]) + Math.abs(y[i]) * yg) / n;
        });
        assertClose(out.da, l2NormalizeBackwardReference(a, g, c.channels), atol, tol, "da");
      }),
      { seed: 42, numRuns: 30 },
    );
  },
});

Deno.test({
  name: "cosine distance is 0 against a positive multiple and 2 against the negation",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(cases, fc.double({ min: 0.5, max: 4, noNaN: true }), async (k, s) => {
        const { c } = k;
        const a = k.a.map((v, i) => (i % c.channels === 0 ? v + 5 : v));
        const shape = [...c.shape, c.channels];
        const out = await runGpu(Effect.gen(function* () {
          const at = yield* fromArray(a, shape, "f32");
          const scaled = yield* fromArray(a.map((v) => v * s), shape, "f32");
          const negated = yield* fromArray(a.map((v) => -v), shape, "f32");
          const o = { reduction: "none" as const };
          return {
            same: yield* download((yield* distance("cosine", at, scaled, o)).value),
            opposite: yield* download((yield* distance("cosine", at, negated, o)).value),
          };
        }));
        const p = sizeOf(c.shape);
        assertClose(out.same, new Array(p).fill(0), 1e-6, 0, "same");
        assertClose(out.opposite, new Array(p).fill(2), 1e-6, 0, "opposite");
      }),
      { seed: 42, numRuns: 15 },
    );
  },
});
