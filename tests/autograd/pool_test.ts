import fc from "fast-check";
import { Effect } from "effect";
import { globalAvgPool, maxPool2d } from "../../src/autograd/pool.ts";
import { grad, parameter } from "../../src/autograd/tape.ts";
import {
  globalAvgPoolBackwardReference,
  globalAvgPoolReference,
  maxPoolBackwardReference,
  maxPoolReference,
} from "../reference/pool.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { seededValues } from "../support/arbitrary.ts";

const caseArb = fc.record({
  n: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 3, max: 11 }),
  w: fc.integer({ min: 3, max: 9 }),
  c: fc.integer({ min: 1, max: 5 }),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});

Deno.test({
  name: "maxPool2d node: the gradient matches the reference (3x3, stride 2, padding 1)",
  ...gpuTestOptions,
  fn: async () => {
    const geometry = { kernel: 3, stride: 2, padding: 1 };
    await fc.assert(
      fc.asyncProperty(caseArb, async (k) => {
        const shape = [k.n, k.h, k.w, k.c];
        // Coarse integer values: ties are common and sums are exact.
        const x = seededValues(k.n * k.h * k.w * k.c, k.seed).map((v) => Math.round(v * 4));
        const ref = maxPoolReference(x, shape, geometry);
        const g = seededValues(ref.y.length, k.seed + 1).map((v) => Math.round(v * 8));
        const got = await runGpu(Effect.gen(function* () {
          const xn = parameter(yield* fromArray(x, shape, "f32"), "x");
          const y = yield* maxPool2d(xn, geometry);
          const [dx] = yield* grad(y, [xn], yield* fromArray(g, y.value.shape, "f32"));
          return { y: yield* download(y.value), dx: yield* download(dx) };
        }));
        assertClose(got.y, ref.y, 0, 0, "y");
        assertClose(got.dx, maxPoolBackwardReference(g, ref.argmax, shape, ref.shape), 0, 0, "dx");
      }),
      { seed: 42, numRuns: 12 },
    );
  },
});

Deno.test({
  name: "globalAvgPool node: the gradient matches the reference",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (k) => {
        const shape = [k.n, k.h, k.w, k.c];
        const x = seededValues(k.n * k.h * k.w * k.c, k.seed);
        const g = seededValues(k.n * k.c, k.seed + 1);
        const got = await runGpu(Effect.gen(function* () {
          const xn = parameter(yield* fromArray(x, shape, "f32"), "x");
          const y = yield* globalAvgPool(xn);
          const [dx] = yield* grad(y, [xn], yield* fromArray(g, [k.n, 1, 1, k.c], "f32"));
          return { y: yield* download(y.value), dx: yield* download(dx) };
        }));
        assertClose(got.y, globalAvgPoolReference(x, shape), 1e-5, 1e-5, "y");
        assertClose(got.dx, globalAvgPoolBackwardReference(g, shape), 1e-7, 1e-6, "dx");
      }),
      { seed: 42, numRuns: 10 },
    );
  },
});

Deno.test({
  name: "maxPool2d node on inputs smaller than the window (padded): value and gradient",
  ...gpuTestOptions,
  fn: async () => {
    // H (and W in half the cases) under the kernel, padding up to kernel / 2 so the window fits.
    const smallArb = fc.record({
      kernel: fc.integer({ min: 2, max: 5 }),
      stride: fc.integer({ min: 1, max: 3 }),
      n: fc.integer({ min: 1, max: 2 }),
      c: fc.integer({ min: 1, max: 4 }),
      seed: fc.integer({ min: 1, max: 1 << 30 }),
      wide: fc.boolean(),
      pick: fc.nat(),
    }).map((k) => {
      const padding = Math.floor(k.kernel / 2);
      const smallest = Math.max(1, k.kernel - 2 * padding);
      const small = smallest + (k.pick % (k.kernel - smallest));
      return { ...k, h: small, w: k.wide ? k.kernel + 4 : small, padding };
    });
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(smallArb, async (k) => {
        const geometry = { kernel: k.kernel, stride: k.stride, padding: k.padding };
        const shape = [k.n, k.h, k.w, k.c];
        const x = seededValues(k.n * k.h * k.w * k.c, k.seed).map((v) => Math.round(v * 4));
        const ref = maxPoolReference(x, shape, geometry);
        const g = seededValues(ref.y.length, k.seed + 1).map((v) => Math.round(v * 8));
        const got = await runGpu(Effect.gen(function* () {
          const xn = parameter(yield* fromArray(x, shape, "f32"), "x");
          const y = yield* maxPool2d(xn, geometry);
          const [dx] = yield* grad(y, [xn], yield* fromArray(g, y.value.shape, "f32"));
          return { shape: y.value.shape, y: yield* download(y.value), dx: yield* download(dx) };
        }));
        if (got.shape.join() !== ref.shape.join()) throw new Error(`shape ${got.shape}`);
        assertClose(got.y, ref.y, 0, 0, "y");
        assertClose(got.dx, maxPoolBackwardReference(g, ref.argmax, shape, ref.shape), 0, 0, "dx");
        if (k.h < k.kernel) compared++;
      }),
      { seed: 42, numRuns: 16 },
    );
    if (compared !== 16) throw new Error(`${compared} of 16 runs had an input under the window`);
  },
});
