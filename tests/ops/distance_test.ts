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
} from "../../src/ops/reference/distance.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { floats, shapeOf } from "../support/arbitrary.ts";

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

// Pixels [N, H, W] and channels; some pixels are zeroed to reach the eps guard.
const cases = fc.record({
  shape: shapeOf(3, 5),
  channels: fc.integer({ min: 1, max: 17 }),
  kind: fc.constantFrom<DistanceKindName>("l2Squared", "l2", "cosine"),
  reduction: fc.constantFrom<Reduction>("none", "sum", "mean"),
}).chain((c) => {
  const p = sizeOf(c.shape);
  const n = p * c.channels;
  const zeroRows = fc.array(fc.boolean(), { minLength: p, maxLength: p });
  // Tiny values are flushed to 0: their squares underflow in f32 but not in float64,
  // which would put a norm on different sides of eps in the two.
  const zeroed = (x: number[], z: boolean[]) =>
    x.map((v, i) => (z[Math.floor(i / c.channels)] && i % 3 !== 2) || Math.abs(v) < 1e-3 ? 0 : v);
  return fc.record({
    c: fc.constant(c),
    a: fc.tuple(floats(n, 3), zeroRows).map(([x, z]) => zeroed(x, z)),
    b: fc.tuple(floats(n, 3), zeroRows).map(([x, z]) => zeroed(x, z)),
    g: floats(n, 2),
  });
});

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
        assertClose(
          out.value,
          distanceReference(c.kind, a, b, c.channels, c.reduction),
          2e-5,
          2e-5,
          c.kind,
        );
        const ref = distanceBackwardReference(c.kind, a, b, c.channels, gRef, c.reduction);
        // The cosine gradient grows like 1 / |a|: compare relative to the data's scale.
        assertClose(out.da, ref.a, 1e-4, 1e-4, `${c.kind} da`);
        assertClose(out.db, ref.b, 1e-4, 1e-4, `${c.kind} db`);
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
        a: fc.array(fc.double({ min: 0.2, max: 2, noNaN: true }), {
          minLength: k.p * k.c,
          maxLength: k.p * k.c,
        }),
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
        assertClose(out.y, l2NormalizeReference(a, c.channels), 1e-6, 1e-5, "y");
        // At a zero pixel the gradient is g / eps: huge, and exact on both sides.
        assertClose(out.da, l2NormalizeBackwardReference(a, g, c.channels), 1e-4, 1e-4, "da");
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
