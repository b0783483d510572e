import fc from "fast-check";
import { Effect } from "effect";
import { logSoftmax, softmax, softmaxBackward } from "../../src/ops/softmax.ts";
import { softmaxBackwardReference, softmaxReference } from "../reference/softmax.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu, runGpuResult } from "../support/gpu.ts";
import { floats, shapeOf } from "../support/arbitrary.ts";
import { softmaxBackwardAtol } from "../support/tolerances.ts";

const cases = fc.record({
  shape: shapeOf(3, 5).chain((s) => fc.integer({ min: 1, max: 23 }).map((c) => [...s, c])),
  temperature: fc.constantFrom(1, 0.5, 2, 3.7),
  log: fc.boolean(),
  offset: fc.constantFrom(0, 80),
}).chain((c) => {
  const n = c.shape.reduce((a, b) => a * b, 1);
  return fc.record({
    c: fc.constant(c),
    // Rounded to f32: the reference must see the values the kernel sees.
    z: floats(n, 6).map((z) => z.map((v) => Math.fround(v + c.offset))),
    g: floats(n, 2),
  });
});

Deno.test({
  name: "softmax and log-softmax with temperature, forward and backward, match float64",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ c, z, g }) => {
        const channels = c.shape[c.shape.length - 1];
        const [y, dz] = await runGpu(Effect.gen(function* () {
          const zt = yield* fromArray(z, c.shape, "f32");
          const gt = yield* fromArray(g, c.shape, "f32");
          const options = { temperature: c.temperature };
          const y = c.log ? yield* logSoftmax(zt, options) : yield* softmax(zt, options);
          const dz = yield* softmaxBackward(y, gt, c.log, options);
          return [yield* download(y), yield* download(dz)];
        }));
        // A +80 offset would overflow exp without the max subtraction.
        assertClose(y, softmaxReference(z, channels, c.temperature, c.log), 2e-6, 2e-5, "y");
        const dzRef = softmaxBackwardReference(z, g, channels, c.temperature, c.log);
        const atol = softmaxBackwardAtol(z, g, channels, c.temperature, c.log);
        assertClose(dz, dzRef, atol, 0, "dz");
      }),
      { seed: 42, numRuns: 40 },
    );
  },
});

Deno.test({
  name: "softmax backward is the adjoint of its Jacobian (finite differences in float64)",
  fn: () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }).chain((c) =>
          fc.record({ c: fc.constant(c), z: floats(2 * c, 3), g: floats(2 * c, 2) })
        ),
        fc.boolean(),
        ({ c, z, g }, log) => {
          const f = (x: number[]) =>
            softmaxReference(x, c, 1.5, log).reduce((s, v, i) => s + v * g[i], 0);
          const h = 1e-5;
          const fd = z.map((_, i) => {
            const plus = [...z];
            const minus = [...z];
            plus[i] += h;
            minus[i] -= h;
            return (f(plus) - f(minus)) / (2 * h);
          });
          assertClose(softmaxBackwardReference(z, g, c, 1.5, log), fd, 1e-7, 1e-5, "fd");
        },
      ),
      { seed: 42, numRuns: 50 },
    );
  },
});

Deno.test({
  name: "a non-positive temperature is rejected before dispatch",
  ...gpuTestOptions,
  fn: async () => {
    const result = await runGpuResult(Effect.gen(function* () {
      const z = yield* fromArray([1, 2, 3], [1, 3], "f32");
      return yield* softmax(z, { temperature: 0 });
    }));
    if (result._tag !== "Failure" || result.failure._tag !== "BindingError") {
      throw new Error("expected a BindingError");
    }
  },
});
