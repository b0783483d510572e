import fc from "fast-check";
import { Effect } from "effect";
import { add, matmul, mul, relu, scale, sub, sumAll } from "../../src/autograd/basic.ts";
import { backward, constant, grad, parameter } from "../../src/autograd/tape.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
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
        // relu's kink makes finite differences meaningless right at 0; skip those draws.
        const nearKink = (() => {
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              let ab = 0;
              for (let p = 0; p < k; p++) ab += a[i * k + p] * b[p * n + j];
              if (Math.abs(ab) < 1e-2) return true;
            }
          }
          return false;
        })();
        if (nearKink) return;
        const fa = finiteDifference((x) => reference(x, b, c, m, k, n), a);
        const fb = finiteDifference((x) => reference(a, x, c, m, k, n), b);
        assertClose(ga, fa, 2e-3, 2e-3, "dA");
        assertClose(gb, fb, 2e-3, 2e-3, "dB");
      }),
      { seed: 42, numRuns: 25 },
    );
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
