import fc from "fast-check";
import { Effect } from "effect";
import { resizeBilinear } from "../../src/autograd/resize.ts";
import { grad, parameter } from "../../src/autograd/tape.ts";
import { resizeBilinearBackwardReference, resizeBilinearReference } from "../reference/resize.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { resizeAtol } from "../support/tolerances.ts";
import { seededValues } from "../support/arbitrary.ts";

Deno.test({
  name: "resizeBilinear node: the gradient matches the reference, up and down",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          n: fc.integer({ min: 1, max: 2 }),
          c: fc.integer({ min: 1, max: 4 }),
          hs: fc.constantFrom([7, 13], [13, 5], [65, 17], [17, 65], [4, 9]),
          ws: fc.constantFrom([7, 13], [13, 5], [5, 11], [9, 3]),
          seed: fc.integer({ min: 1, max: 1 << 30 }),
        }),
        async (k) => {
          const [inH, outH] = k.hs;
          const [inW, outW] = k.ws;
          const shape = [k.n, inH, inW, k.c];
          const x = seededValues(k.n * inH * inW * k.c, k.seed);
          const g = seededValues(k.n * outH * outW * k.c, k.seed + 1);
          const got = await runGpu(Effect.gen(function* () {
            const xn = parameter(yield* fromArray(x, shape, "f32"), "x");
            const y = yield* resizeBilinear(xn, outH, outW);
            const [dx] = yield* grad(y, [xn], yield* fromArray(g, y.value.shape, "f32"));
            return { y: yield* download(y.value), dx: yield* download(dx) };
          }));
          const atol = resizeAtol(x, g, shape, outH, outW);
          assertClose(got.y, resizeBilinearReference(x, shape, outH, outW), atol.y, 0, "y");
          const dxRef = resizeBilinearBackwardReference(g, shape, outH, outW);
          assertClose(got.dx, dxRef, atol.dx, 0, "dx");
        },
      ),
      { seed: 42, numRuns: 10 },
    );
  },
});
