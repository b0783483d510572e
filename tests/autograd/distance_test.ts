import fc from "fast-check";
import { Effect } from "effect";
import { cosineDistance, l2Normalize, l2SquaredDistance } from "../../src/autograd/distance.ts";
import { constant, grad, parameter } from "../../src/autograd/tape.ts";
import { distanceReference, l2NormalizeReference } from "../../src/ops/reference/distance.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { floats } from "../support/arbitrary.ts";

const finiteDifference = (f: (x: number[]) => number, x: number[], h = 1e-6): number[] =>
  x.map((_, i) => {
    const plus = [...x];
    const minus = [...x];
    plus[i] += h;
    minus[i] -= h;
    return (f(plus) - f(minus)) / (2 * h);
  });

const cases = fc.record({
  pixels: fc.integer({ min: 1, max: 29 }),
  channels: fc.integer({ min: 1, max: 9 }),
}).chain((c) =>
  fc.record({
    c: fc.constant(c),
    // Shifted away from 0 so no norm sits at the eps kink.
    a: floats(c.pixels * c.channels, 2).map((a) => a.map((v) => v + 3)),
    b: floats(c.pixels * c.channels, 2).map((b) => b.map((v) => v - 3)),
  })
);

Deno.test({
  name: "grad of mean cosine distance after L2-normalisation equals finite differences",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ c, a, b }) => {
        const shape = [c.pixels, c.channels];
        const [value, da, db] = await runGpu(Effect.gen(function* () {
          const A = parameter(yield* fromArray(a, shape, "f32"), "A");
          const B = parameter(yield* fromArray(b, shape, "f32"), "B");
          const loss = yield* cosineDistance(yield* l2Normalize(A), B);
          if (loss.value.shape.join() !== "1") throw new Error("not a scalar");
          const [da, db] = yield* grad(loss, [A, B]);
          return [yield* download(loss.value), yield* download(da), yield* download(db)];
        }));
        const f = (x: number[], y: number[]) =>
          distanceReference("cosine", l2NormalizeReference(x, c.channels), y, c.channels)[0];
        assertClose(value, [f(a, b)], 1e-5, 1e-5, "value");
        assertClose(da, finiteDifference((x) => f(x, b), a), 1e-5, 1e-3, "da");
        assertClose(db, finiteDifference((y) => f(a, y), b), 1e-5, 1e-3, "db");
      }),
      { seed: 42, numRuns: 20 },
    );
  },
});

Deno.test({
  name: "squared L2 against a constant gives 2 (a - b) / P to a only",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ c, a, b }) => {
        const shape = [c.pixels, c.channels];
        const [value, da] = await runGpu(Effect.gen(function* () {
          const A = parameter(yield* fromArray(a, shape, "f32"), "A");
          const B = constant(yield* fromArray(b, shape, "f32"));
          const loss = yield* l2SquaredDistance(A, B);
          const [da] = yield* grad(loss, [A]);
          return [yield* download(loss.value), yield* download(da)];
        }));
        assertClose(value, distanceReference("l2Squared", a, b, c.channels), 1e-5, 1e-5);
        assertClose(da, a.map((v, i) => (2 * (v - b[i])) / c.pixels), 1e-6, 1e-5, "da");
      }),
      { seed: 42, numRuns: 15 },
    );
  },
});
