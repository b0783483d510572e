import fc from "fast-check";
import { Effect } from "effect";
import { concat } from "../../src/autograd/concat.ts";
import { batchNorm } from "../../src/autograd/norm.ts";
import { maxPool2d } from "../../src/autograd/pool.ts";
import { resizeBilinear } from "../../src/autograd/resize.ts";
import { constant, grad, parameter } from "../../src/autograd/tape.ts";
import { concatBackwardReference, concatReference } from "../reference/concat.ts";
import { batchNormBackwardReference, batchNormTrainReference } from "../reference/norm.ts";
import { maxPoolBackwardReference, maxPoolReference } from "../reference/pool.ts";
import { resizeBilinearBackwardReference, resizeBilinearReference } from "../reference/resize.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, EPS32, gpuTestOptions, maxAbs, runGpu } from "../support/gpu.ts";
import { seededValues } from "../support/arbitrary.ts";

Deno.test({
  name: "concat node: each input gets its slice of the gradient; frozen inputs get none",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          n: fc.integer({ min: 1, max: 3 }),
          h: fc.integer({ min: 1, max: 5 }),
          w: fc.integer({ min: 1, max: 5 }),
          sizes: fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }),
          frozen: fc.integer({ min: 0, max: 3 }),
          seed: fc.integer({ min: 1, max: 1 << 30 }),
        }),
        async (k) => {
          const shapes = k.sizes.map((c) => [k.n, k.h, k.w, c]);
          const xs = shapes.map((s, i) => seededValues(s.reduce((a, b) => a * b), k.seed + i));
          const y = concatReference(xs, shapes);
          const g = seededValues(y.length, k.seed + 50);
          const got = await runGpu(Effect.gen(function* () {
            const nodes = [];
            for (let i = 0; i < shapes.length; i++) {
              const t = yield* fromArray(xs[i], shapes[i], "f32");
              nodes.push(i === k.frozen ? constant(t) : parameter(t, `x${i}`));
            }
            const out = yield* concat(nodes);
            const grads = yield* grad(out, nodes, yield* fromArray(g, out.value.shape, "f32"));
            const host = [];
            for (const d of grads) host.push(yield* download(d));
            return { y: yield* download(out.value), grads: host };
          }));
          assertClose(got.y, y, 0, 0, "y");
          const parts = concatBackwardReference(g, shapes);
          got.grads.forEach((d, i) => {
            const expected = i === k.frozen ? new Float64Array(d.length) : parts[i];
            assertClose(d, expected, 0, 0, `grad ${i}`);
          });
        },
      ),
      { seed: 42, numRuns: 15 },
    );
  },
});

Deno.test({
  name: "a chain batchNorm -> maxPool -> resize -> concat(skip) differentiates like the references",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          n: fc.integer({ min: 1, max: 2 }),
          h: fc.integer({ min: 3, max: 11 }),
          w: fc.integer({ min: 3, max: 9 }),
          c: fc.integer({ min: 1, max: 5 }),
          seed: fc.integer({ min: 1, max: 1 << 30 }),
        }),
        async (k) => {
          const shape = [k.n, k.h, k.w, k.c];
          const geometry = { kernel: 3, stride: 2, padding: 1 };
          const x = seededValues(k.n * k.h * k.w * k.c, k.seed, 2);
          const weight = seededValues(k.c, k.seed + 1);
          const bias = seededValues(k.c, k.seed + 2);
          const zeros = new Float32Array(k.c);
          const ones = new Float32Array(k.c).fill(1);
          // Reference forward and backward, float64.
          const bn = batchNormTrainReference(x, weight, bias, zeros, ones);
          const pooled = maxPoolReference(bn.y, shape, geometry);
          const resized = resizeBilinearReference(pooled.y, pooled.shape, k.h, k.w);
          const outShapes = [shape, shape];
          const out = concatReference([resized, x], outShapes);
          const g = seededValues(out.length, k.seed + 3);
          const [gResized, gSkip] = concatBackwardReference(g, outShapes);
          const gPooled = resizeBilinearBackwardReference(gResized, pooled.shape, k.h, k.w);
          const gBn = maxPoolBackwardReference(gPooled, pooled.argmax, shape, pooled.shape);
          const ref = batchNormBackwardReference(x, gBn, bn, weight, true);
          const dxRef = ref.dx.map((v, i) => v + gSkip[i]);
          const got = await runGpu(Effect.gen(function* () {
            const xn = parameter(yield* fromArray(x, shape, "f32"), "x");
            const wn = parameter(yield* fromArray(weight, [k.c], "f32"), "weight");
            const bn = parameter(yield* fromArray(bias, [k.c], "f32"), "bias");
            const running = {
              mean: yield* fromArray(zeros, [k.c], "f32"),
              variance: yield* fromArray(ones, [k.c], "f32"),
            };
            const normed = yield* batchNorm(xn, wn, bn, running, { mode: "train" });
            const pooledNode = yield* maxPool2d(normed, geometry);
            const up = yield* resizeBilinear(pooledNode, k.h, k.w);
            const joined = yield* concat([up, xn]);
            const seed = yield* fromArray(g, joined.value.shape, "f32");
            const [dx, dw, db] = yield* grad(joined, [xn, wn, bn], seed);
            return {
              y: yield* download(joined.value),
              dx: yield* download(dx),
              dw: yield* download(dw),
              db: yield* download(db),
            };
          }));
          // Each tensor to within ulps of its largest entry: the chain's sums (batch
          // statistics, their backward's means, the taps and windows) round in f32.
          const tol = (ref: ArrayLike<number>) => 32 * EPS32 * maxAbs(ref);
          assertClose(got.y, out, tol(out), 0, "y");
          assertClose(got.dx, dxRef, tol(dxRef), 0, "dx");
          assertClose(got.dw, ref.dWeight, tol(ref.dWeight), 0, "dWeight");
          assertClose(got.db, ref.dBias, tol(ref.dBias), 0, "dBias");
        },
      ),
      { seed: 42, numRuns: 10 },
    );
  },
});
