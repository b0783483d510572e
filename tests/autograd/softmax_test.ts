import fc from "fast-check";
import { Effect } from "effect";
import { mul, sumAll } from "../../src/autograd/basic.ts";
import { logSoftmax, softmax } from "../../src/autograd/softmax.ts";
import { constant, grad, parameter } from "../../src/autograd/tape.ts";
import { softmaxBackwardReference, softmaxReference } from "../reference/softmax.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, EPS32, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { floats } from "../support/arbitrary.ts";
import { softmaxBackwardAtol } from "../support/tolerances.ts";

Deno.test({
  name: "grad of sum(softmax(Z / T) * C) and of log-softmax equals the float64 reference",
  ...gpuTestOptions,
  fn: async () => {
    const cases = fc.record({
      pixels: fc.integer({ min: 1, max: 37 }),
      channels: fc.integer({ min: 1, max: 13 }),
      temperature: fc.constantFrom(1, 0.5, 2.5),
      log: fc.boolean(),
    }).chain((c) =>
      fc.record({
        c: fc.constant(c),
        z: floats(c.pixels * c.channels, 5),
        w: floats(c.pixels * c.channels, 2),
      })
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ c, z, w }) => {
        const shape = [1, 1, c.pixels, c.channels];
        const [value, dz] = await runGpu(Effect.gen(function* () {
          const Z = parameter(yield* fromArray(z, shape, "f32"), "Z");
          const W = constant(yield* fromArray(w, shape, "f32"));
          const options = { temperature: c.temperature };
          const y = c.log ? yield* logSoftmax(Z, options) : yield* softmax(Z, options);
          const f = yield* sumAll(yield* mul(y, W));
          const [dz] = yield* grad(f, [Z]);
          return [yield* download(f.value), yield* download(dz)];
        }));
        const y = softmaxReference(z, c.channels, c.temperature, c.log);
        const expected = y.reduce((s, v, i) => s + v * w[i], 0);
        // A sum of y w: its atol scales with the sum of |y w| and, for the log-softmax's
        // absolute error (its log-sum), the sum of |w|.
        const terms = y.reduce((s, v, i) => s + (Math.abs(v) + 1) * Math.abs(w[i]), 0);
        assertClose(value, [expected], 8 * EPS32 * terms, 0, "value");
        const dzRef = softmaxBackwardReference(z, w, c.channels, c.temperature, c.log);
        const atol = softmaxBackwardAtol(z, w, c.channels, c.temperature, c.log);
        assertClose(dz, dzRef, atol, 0, "dz");
      }),
      { seed: 42, numRuns: 25 },
    );
  },
});

Deno.test({
  name: "softmax of a constant records no graph",
  ...gpuTestOptions,
  fn: async () => {
    const requires = await runGpu(Effect.gen(function* () {
      const z = constant(yield* fromArray([1, 2, 3, 4], [2, 2], "f32"));
      return (yield* softmax(z)).requiresGrad;
    }));
    if (requires) throw new Error("a constant's softmax should need no gradient");
  },
});
