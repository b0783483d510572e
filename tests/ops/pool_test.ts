import fc from "fast-check";
import { Effect } from "effect";
import {
  globalAvgPool,
  globalAvgPoolBackward,
  maxPool2d,
  maxPool2dBackward,
} from "../../src/ops/pool.ts";
import {
  globalAvgPoolBackwardReference,
  globalAvgPoolReference,
  maxPoolBackwardReference,
  maxPoolReference,
  poolOutputSize,
} from "../../src/ops/reference/pool.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { seededValues } from "../support/arbitrary.ts";

const geometryArb = fc.constantFrom(
  { kernel: 3, stride: 2, padding: 1 },
  { kernel: 3, stride: 1, padding: 1 },
  { kernel: 2, stride: 2, padding: 0 },
  { kernel: 3, stride: 3, padding: 0 },
  { kernel: 5, stride: 2, padding: 2 },
);

const caseArb = fc.record({
  n: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 5, max: 13 }),
  w: fc.integer({ min: 5, max: 11 }),
  c: fc.integer({ min: 1, max: 7 }),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
  // Few distinct integer values make ties in a window common.
  levels: fc.constantFrom(3, 1000),
  geometry: geometryArb,
});

Deno.test({
  name: "max pool forward, argmax and gather backward match the reference (ties: first in window)",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (k) => {
        const shape = [k.n, k.h, k.w, k.c];
        const count = k.n * k.h * k.w * k.c;
        const x = seededValues(count, k.seed).map((v) => Math.round(v * k.levels));
        const ref = maxPoolReference(x, shape, k.geometry);
        const dy = seededValues(ref.y.length, k.seed + 1).map((v) => Math.round(v * 16));
        const got = await runGpu(Effect.gen(function* () {
          const xt = yield* fromArray(x, shape, "f32");
          const { y, argmax } = yield* maxPool2d(xt, k.geometry);
          const dyt = yield* fromArray(dy, y.shape, "f32");
          const dx = yield* maxPool2dBackward(dyt, argmax, shape, k.geometry);
          return {
            shape: y.shape,
            y: yield* download(y),
            argmax: yield* download(argmax),
            dx: yield* download(dx),
          };
        }));
        if (got.shape.join() !== ref.shape.join()) throw new Error(`shape ${got.shape}`);
        assertClose(got.y, ref.y, 0, 0, "y");
        assertClose(got.argmax, ref.argmax, 0, 0, "argmax");
        // Integer gradients: the gathered sums are exact.
        const dxRef = maxPoolBackwardReference(dy, ref.argmax, shape, ref.shape);
        assertClose(got.dx, dxRef, 0, 0, "dx");
      }),
      { seed: 42, numRuns: 20 },
    );
  },
});

Deno.test("max pool reference: ties go to the first pixel, padding never wins", () => {
  const shape = [1, 3, 3, 1];
  const ref = maxPoolReference(new Float64Array(9).fill(-5), shape, {
    kernel: 3,
    stride: 2,
    padding: 1,
  });
  assertClose(ref.y, [-5, -5, -5, -5], 0, 0, "y");
  // Windows start at (-1,-1), (-1,1), (1,-1), (1,1): their first real pixels.
  assertClose(ref.argmax, [0, 1, 3, 4], 0, 0, "argmax");
  if (poolOutputSize(112, { kernel: 3, stride: 2, padding: 1 }) !== 56) throw new Error("size");
});

Deno.test("max pool reference backward satisfies the adjoint identity", () => {
  fc.assert(
    fc.property(caseArb, (k) => {
      const shape = [k.n, k.h, k.w, k.c];
      const x = seededValues(k.n * k.h * k.w * k.c, k.seed);
      const ref = maxPoolReference(x, shape, k.geometry);
      const g = seededValues(ref.y.length, k.seed + 1);
      const v = seededValues(x.length, k.seed + 2);
      // For fixed argmax the pool is linear: y(v)[o] = v[argmax[o]].
      const pick = ref.y.map((_, o) => {
        const b = Math.floor(o / (ref.shape[1] * ref.shape[2] * k.c));
        return v[(b * k.h * k.w + ref.argmax[o]) * k.c + (o % k.c)];
      });
      const lhs = pick.reduce((s, p, o) => s + p * g[o], 0);
      const dx = maxPoolBackwardReference(g, ref.argmax, shape, ref.shape);
      const rhs = dx.reduce((s, d, i) => s + d * v[i], 0);
      return Math.abs(lhs - rhs) <= 1e-9 * (1 + Math.abs(lhs));
    }),
    { seed: 42, numRuns: 30 },
  );
});

Deno.test({
  name: "global average pool and its backward match the reference",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          n: fc.integer({ min: 1, max: 3 }),
          h: fc.integer({ min: 1, max: 17 }),
          w: fc.integer({ min: 1, max: 15 }),
          c: fc.integer({ min: 1, max: 70 }),
          seed: fc.integer({ min: 1, max: 1 << 30 }),
        }),
        async (k) => {
          const shape = [k.n, k.h, k.w, k.c];
          const x = seededValues(k.n * k.h * k.w * k.c, k.seed);
          const dy = seededValues(k.n * k.c, k.seed + 1);
          const got = await runGpu(Effect.gen(function* () {
            const y = yield* globalAvgPool(yield* fromArray(x, shape, "f32"));
            const dx = yield* globalAvgPoolBackward(yield* fromArray(dy, y.shape, "f32"), shape);
            return { shape: y.shape, y: yield* download(y), dx: yield* download(dx) };
          }));
          if (got.shape.join() !== [k.n, 1, 1, k.c].join()) throw new Error(`${got.shape}`);
          assertClose(got.y, globalAvgPoolReference(x, shape), 1e-5, 1e-5, "y");
          assertClose(got.dx, globalAvgPoolBackwardReference(dy, shape), 1e-7, 1e-6, "dx");
          // Adjoint: <pool(x), dy> = <x, pool^T(dy)>.
          const lhs = globalAvgPoolReference(x, shape).reduce((s, v, i) => s + v * dy[i], 0);
          const rhs = globalAvgPoolBackwardReference(dy, shape).reduce(
            (s, v, i) => s + v * x[i],
            0,
          );
          assertClose([lhs], [rhs], 1e-9, 1e-9, "adjoint");
        },
      ),
      { seed: 42, numRuns: 15 },
    );
  },
});
