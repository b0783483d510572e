import fc from "fast-check";
import { Effect } from "effect";
import { cosineDistance, l2Normalize, l2SquaredDistance } from "../../src/autograd/distance.ts";
import { constant, grad, parameter } from "../../src/autograd/tape.ts";
import { distanceReference, l2NormalizeReference } from "../reference/distance.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, EPS32, gpuTestOptions, runGpu } from "../support/gpu.ts";
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

/**
 * Tolerances of mean_p cosine(x_p, b_p) with x = a / |a| and its gradients, from the |terms|:
 * d/dx_k = -u (b_k / (nx nb) - cos x_k / nx^2), d/db_k likewise, and the normalisation's
 * backward da = (g - x <x, g>) / |a|, with |cos| bounded by <|x|, |b|> / (nx nb).
 */
const normalizedCosineAtol = (a: number[], b: number[], channels: number, tol: number) => {
  const pixels = a.length / channels;
  const u = 1 / pixels;
  const x = l2NormalizeReference(a, channels);
  let value = 0;
  const da: number[] = [];
  const db: number[] = [];
  for (let base = 0; base < a.length; base += channels) {
    let xx = 0;
    let bb = 0;
    let aa = 0;
    let xb = 0;
    for (let k = 0; k < channels; k++) {
      xx += x[base + k] ** 2;
      bb += b[base + k] ** 2;
      aa += a[base + k] ** 2;
      xb += Math.abs(x[base + k] * b[base + k]);
    }
    const nx = Math.sqrt(xx);
    const nb = Math.sqrt(bb);
    const cos = xb / (nx * nb);
    value += tol * u * (1 + cos);
    const gx: number[] = [];
    for (let k = 0; k < channels; k++) {
      const xk = Math.abs(x[base + k]);
      const bk = Math.abs(b[base + k]);
      gx.push(u * (bk / (nx * nb) + (cos * xk) / nx ** 2));
      db.push(tol * u * (xk / (nx * nb) + (cos * bk) / nb ** 2));
    }
    const xg = gx.reduce((s, v, k) => s + v * Math.abs(x[base + k]), 0);
    for (let k = 0; k < channels; k++) {
      da.push((tol * (gx[k] + Math.abs(x[base + k]) * xg)) / Math.sqrt(aa));
    }
  }
  return { value, da, db };
};

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
        // Tolerances from the |terms| (the gradients cancel: with one channel they are 0),
        // against float64 finite differences good to about 1e-9.
        const tol = 16 * (c.channels + 4) * EPS32;
        const atol = normalizedCosineAtol(a, b, c.channels, tol);
        assertClose(value, [f(a, b)], atol.value, 0, "value");
        const fa = finiteDifference((x) => f(x, b), a);
        const fb = finiteDifference((y) => f(a, y), b);
        assertClose(da, fa, atol.da.map((t) => t + 1e-9), 0, "da");
        assertClose(db, fb, atol.db.map((t) => t + 1e-9), 0, "db");
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
        // Sums of non-negative terms and 2 (a - b) / P of f32 inputs: relative tolerances.
        const tol = 2 * (c.channels + 4) * EPS32;
        assertClose(value, distanceReference("l2Squared", a, b, c.channels), 0, tol, "value");
        assertClose(da, a.map((v, i) => (2 * (v - b[i])) / c.pixels), 0, tol, "da");
      }),
      { seed: 42, numRuns: 15 },
    );
  },
});
