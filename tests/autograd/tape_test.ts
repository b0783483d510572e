import fc from "fast-check";
import { Effect } from "effect";
import { add, matmul, mul, relu, scale, sub, sumAll } from "../../src/autograd/basic.ts";
import { backward, constant, grad, parameter } from "../../src/autograd/tape.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, EPS32, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { floats } from "../support/arbitrary.ts";

// f(A, B, C) = sum(relu(A B) * C - 0.5 A B + (A B)), a graph that reuses A B three times.
const reference = (a: number[], b: number[], c: number[], m: number, k: number, n: number) => {
  let total = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let ab = 0;
      for (let p = 0; p < k; p++) ab += a[i * k + p] * b[p * n + j];
      total += Math.max(ab, 0) * c[i * n + j] - 0.5 * ab + ab;
    }
  }
  return total;
};

const finiteDifference = (f: (x: number[]) => number, x: number[], h = 1e-4): number[] =>
  x.map((_, i) => {
    const plus = [...x];
    const minus = [...x];
    plus[i] += h;
    minus[i] -= h;
    return (f(plus) - f(minus)) / (2 * h);
  });

Deno.test({
  name: "grad of a graph with shared subexpressions equals central finite differences",
  ...gpuTestOptions,
  fn: async () => {
    const cases = fc.record({
      m: fc.integer({ min: 1, max: 5 }),
      k: fc.integer({ min: 1, max: 6 }),
      n: fc.integer({ min: 1, max: 5 }),
    })
      .chain(({ m, k, n }) =>
        fc.record({
          dims: fc.constant([m, k, n] as const),
          a: floats(m * k, 2),
          b: floats(k * n, 2),
          c: floats(m * n, 2),
        })
      );
    const RUNS = 25;
    const h = 1e-4;
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(cases, async ({ dims: [m, k, n], a, b, c }) => {
        const [ga, gb] = await runGpu(Effect.gen(function* () {
          const A = parameter(yield* fromArray(a, [m, k], "f32"), "A");
          const B = parameter(yield* fromArray(b, [k, n], "f32"), "B");
          const C = constant(yield* fromArray(c, [m, n], "f32"));
          const ab = yield* matmul(A, B);
          const f = yield* sumAll(
            yield* add(yield* sub(yield* mul(yield* relu(ab), C), yield* scale(ab, 0.5)), ab),
          );
          const [da, db] = yield* grad(f, [A, B]);
          return [yield* download(da), yield* download(db)];
        }));
        // relu's kink: a central difference that steps an entry of A B across 0 is no
        // derivative, and an entry within f32 rounding of 0 may take the other branch on
        // the GPU. Such draws are counted and skipped; the rest must mostly remain.
        const nearKink = (() => {
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              let ab = 0;
              let terms = 0;
              let step = 0;
              for (let p = 0; p < k; p++) {
                ab += a[i * k + p] * b[p * n + j];
                terms += Math.abs(a[i * k + p] * b[p * n + j]);
                step = Math.max(step, Math.abs(a[i * k + p]), Math.abs(b[p * n + j]));
              }
              if (Math.abs(ab) <= 2 * h * step || Math.abs(ab) <= 64 * EPS32 * terms) return true;
            }
          }
          return false;
        })();
        if (nearKink) return;
        compared++;
        const fa = finiteDifference((x) => reference(x, b, c, m, k, n), a, h);
        const fb = finiteDifference((x) => reference(a, x, c, m, k, n), b, h);
        // f is piecewise linear in A (and in B): away from the kink the float64 central
        // differences are exact up to rounding (~1e-12 |f| / h). dA = G B^T and dB = A^T G
        // with |G| <= |C| + 1.5: the atol is ulps of the sums of their |terms|.
        const tol = 2 * (Math.max(k, n, m) + 4) * EPS32;
        const atolA = a.map((_, e) => {
          const [i, p] = [Math.floor(e / k), e % k];
          let t = 0;
          for (let j = 0; j < n; j++) t += (Math.abs(c[i * n + j]) + 1.5) * Math.abs(b[p * n + j]);
          return tol * t + 1e-8;
        });
        const atolB = b.map((_, e) => {
          const [p, j] = [Math.floor(e / n), e % n];
          let t = 0;
          for (let i = 0; i < m; i++) t += Math.abs(a[i * k + p]) * (Math.abs(c[i * n + j]) + 1.5);
          return tol * t + 1e-8;
        });
        assertClose(ga, fa, atolA, 0, "dA");
        assertClose(gb, fb, atolB, 0, "dB");
      }),
      { seed: 42, numRuns: RUNS },
    );
    if (compared < 20) throw new Error(`only ${compared} of ${RUNS} draws compared`);
  },
});

Deno.test({
  name: "backward accumulates into parameter gradients across calls",
  ...gpuTestOptions,
  fn: async () => {
    const result = await runGpu(Effect.gen(function* () {
      const paramScope = yield* Effect.scope;
      const w = parameter(yield* fromArray([1, -2, 3], [3], "f32"), "w");
      const x = constant(yield* fromArray([4, 5, 6], [3], "f32"));
      for (let i = 0; i < 3; i++) {
        yield* Effect.scoped(Effect.gen(function* () {
          yield* backward(yield* sumAll(yield* mul(w, x)), [w], paramScope);
        }));
      }
      if (!w.grad) throw new Error("no gradient");
      return yield* download(w.grad);
    }));
    assertClose(result, [12, 15, 18], 0, 0);
  },
});

Deno.test({
  name: "ops on inputs that need no gradient record no graph",
  ...gpuTestOptions,
  fn: async () => {
    await runGpu(Effect.gen(function* () {
      const x = constant(yield* fromArray([1, 2], [2], "f32"));
      const y = yield* relu(yield* scale(x, 2));
      if (y.requiresGrad || y.parents.length !== 0 || y.backward) {
        throw new Error("a frozen computation recorded a backward");
      }
      const [g] = yield* grad(y, [x]);
      assertClose(yield* download(g), [0, 0], 0, 0);
    }));
  },
});
