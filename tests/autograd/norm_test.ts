import fc from "fast-check";
import { Effect } from "effect";
import { batchNorm } from "../../src/autograd/norm.ts";
import { chunkRowsFor } from "../../src/ops/norm.ts";
import { constant, grad, parameter } from "../../src/autograd/tape.ts";
import {
  batchNormBackwardReference,
  batchNormTrainReference,
  evalStatsReference,
  normalizeReference,
} from "../reference/norm.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { seededValues } from "../support/arbitrary.ts";

const caseArb = fc.record({
  n: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 1, max: 9 }),
  w: fc.integer({ min: 1, max: 7 }),
  c: fc.integer({ min: 1, max: 11 }),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
  mode: fc.constantFrom("train" as const, "eval" as const),
}).filter((k) => k.n * k.h * k.w > 1);

Deno.test({
  name: "batchNorm node: gradients of x, weight, bias match the reference; running stats per mode",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (k) => {
        const shape = [k.n, k.h, k.w, k.c];
        const count = k.n * k.h * k.w * k.c;
        const x = seededValues(count, k.seed, 3);
        const weight = seededValues(k.c, k.seed + 1);
        const bias = seededValues(k.c, k.seed + 2);
        const rm = seededValues(k.c, k.seed + 3);
        const rv = seededValues(k.c, k.seed + 4).map((v) => 1 + v * v);
        const g = seededValues(count, k.seed + 5);
        const got = await runGpu(Effect.gen(function* () {
          const xn = parameter(yield* fromArray(x, shape, "f32"), "x");
          const wn = parameter(yield* fromArray(weight, [k.c], "f32"), "weight");
          const bn = parameter(yield* fromArray(bias, [k.c], "f32"), "bias");
          const running = {
            mean: yield* fromArray(rm, [k.c], "f32"),
            variance: yield* fromArray(rv, [k.c], "f32"),
          };
          const y = yield* batchNorm(xn, wn, bn, running, { mode: k.mode });
          const [dx, dw, db] = yield* grad(y, [xn, wn, bn], yield* fromArray(g, shape, "f32"));
          return {
            y: yield* download(y.value),
            dx: yield* download(dx),
            dw: yield* download(dw),
            db: yield* download(db),
            rm: yield* download(running.mean),
            rv: yield* download(running.variance),
          };
        }));
        const train = k.mode === "train";
        const trained = batchNormTrainReference(x, weight, bias, rm, rv);
        const stats = train ? trained : evalStatsReference(rm, rv);
        assertClose(got.y, normalizeReference(x, stats, weight, bias), 2e-4, 2e-4, "y");
        const ref = batchNormBackwardReference(x, g, stats, weight, train);
        assertClose(got.dx, ref.dx, 2e-4, 1e-3, "dx");
        assertClose(got.dw, ref.dWeight, 1e-3, 1e-3, "dWeight");
        assertClose(got.db, ref.dBias, 1e-4, 1e-4, "dBias");
        assertClose(got.rm, train ? trained.runningMean : rm, 1e-5, 1e-5, "running mean");
        assertClose(got.rv, train ? trained.runningVar : rv, 1e-5, 1e-4, "running var");
      }),
      { seed: 42, numRuns: 12 },
    );
  },
});

Deno.test({
  name: "batchNorm node on frozen inputs records no graph but still updates running stats",
  ...gpuTestOptions,
  fn: async () => {
    const x = seededValues(2 * 3 * 5 * 3, 11);
    const out = await runGpu(Effect.gen(function* () {
      const running = {
        mean: yield* fromArray([0, 0, 0], [3], "f32"),
        variance: yield* fromArray([1, 1, 1], [3], "f32"),
      };
      const y = yield* batchNorm(
        constant(yield* fromArray(x, [2, 3, 5, 3], "f32")),
        constant(yield* fromArray([1, 1, 1], [3], "f32")),
        constant(yield* fromArray([0, 0, 0], [3], "f32")),
        running,
        { mode: "train", momentum: 0.5 },
      );
      return { y, mean: yield* download(running.mean) };
    }));
    if (out.y.requiresGrad || out.y.parents.length !== 0) throw new Error("recorded a graph");
    const ref = batchNormTrainReference(x, [1, 1, 1], [0, 0, 0], [0, 0, 0], [1, 1, 1], 0.5);
    assertClose(out.mean, ref.runningMean, 1e-6, 1e-5, "running mean");
  },
});

Deno.test({
  name: "batchNorm node past 32-row chunks (8x128x128, a one-row last chunk): values and gradients",
  ...gpuTestOptions,
  fn: async () => {
    // Rows past chunkRowsFor's smallest chunks: 8x128x128 (512-row chunks) and 8218 rows (33-row
    // chunks, the last of one row); the small cases above all stay within 32-row chunks.
    const cases = [
      { shape: [8, 128, 128, 2], mode: "train" as const },
      { shape: [2, 4109, 1, 3], mode: "train" as const },
      { shape: [2, 4109, 1, 3], mode: "eval" as const },
    ];
    for (const [index, k] of cases.entries()) {
      const c = k.shape[3];
      const rows = k.shape[0] * k.shape[1] * k.shape[2];
      const chunkRows = chunkRowsFor(rows);
      if (chunkRows <= chunkRowsFor(2)) throw new Error(`[${k.shape}]: ${chunkRows}-row chunks`);
      const count = rows * c;
      const seed = 300 + index;
      const x = seededValues(count, seed, 3).map((v) => v - 2);
      const weight = seededValues(c, seed + 1);
      const bias = seededValues(c, seed + 2);
      const rm = seededValues(c, seed + 3);
      const rv = seededValues(c, seed + 4).map((v) => 1 + v * v);
      const g = seededValues(count, seed + 5);
      const got = await runGpu(Effect.gen(function* () {
        const xn = parameter(yield* fromArray(x, k.shape, "f32"), "x");
        const wn = parameter(yield* fromArray(weight, [c], "f32"), "weight");
        const bn = parameter(yield* fromArray(bias, [c], "f32"), "bias");
        const running = {
          mean: yield* fromArray(rm, [c], "f32"),
          variance: yield* fromArray(rv, [c], "f32"),
        };
        const y = yield* batchNorm(xn, wn, bn, running, { mode: k.mode });
        const [dx, dw, db] = yield* grad(y, [xn, wn, bn], yield* fromArray(g, k.shape, "f32"));
        return {
          y: yield* download(y.value),
          dx: yield* download(dx),
          dw: yield* download(dw),
          db: yield* download(db),
          rm: yield* download(running.mean),
          rv: yield* download(running.variance),
        };
      }));
      const train = k.mode === "train";
      const label = `[${k.shape}] ${k.mode}`;
      const trained = batchNormTrainReference(x, weight, bias, rm, rv);
      const stats = train ? trained : evalStatsReference(rm, rv);
      assertClose(got.y, normalizeReference(x, stats, weight, bias), 1e-4, 1e-4, `${label} y`);
      const ref = batchNormBackwardReference(x, g, stats, weight, train);
      assertClose(got.dx, ref.dx, 1e-5, 1e-4, `${label} dx`);
      // The weight and bias gradients sum `rows` terms of about 0.5: f32 rounding, not a lost row.
      assertClose(got.dw, ref.dWeight, 1e-6 * rows, 1e-5, `${label} dWeight`);
      assertClose(got.db, ref.dBias, 1e-6 * rows, 1e-5, `${label} dBias`);
      assertClose(got.rm, train ? trained.runningMean : rm, 1e-6, 1e-5, `${label} running mean`);
      assertClose(got.rv, train ? trained.runningVar : rv, 1e-6, 1e-5, `${label} running var`);
    }
  },
});
