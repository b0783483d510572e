import fc from "fast-check";
import { Effect } from "effect";
import { batchNorm, batchNormBackward, type BatchNormMode } from "../../src/ops/norm.ts";
import {
  batchNormBackwardReference,
  batchNormTrainReference,
  evalStatsReference,
  normalizeReference,
} from "../reference/norm.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu, runGpuResult } from "../support/gpu.ts";
import { seededValues } from "../support/arbitrary.ts";

/** Random NHWC shapes with odd sizes; rows = N*H*W (at least 2, as training needs) spans one to several chunks. */
const caseArb = fc.record({
  n: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 1, max: 11 }),
  w: fc.integer({ min: 1, max: 9 }),
  c: fc.integer({ min: 1, max: 13 }),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
  offset: fc.constantFrom(0, 3, -50),
}).filter((k) => k.n * k.h * k.w > 1);

type Case = { n: number; h: number; w: number; c: number; seed: number; offset: number };

const inputsOf = (k: Case) => {
  const shape = [k.n, k.h, k.w, k.c];
  const count = k.n * k.h * k.w * k.c;
  // An offset mean checks the two-pass variance against cancellation.
  const x = seededValues(count, k.seed, 2).map((v) => v + k.offset);
  return {
    shape,
    x,
    weight: seededValues(k.c, k.seed + 1, 1.5),
    bias: seededValues(k.c, k.seed + 2),
    runningMean: seededValues(k.c, k.seed + 3),
    runningVar: seededValues(k.c, k.seed + 4).map((v) => 0.5 + Math.abs(v)),
    dy: seededValues(count, k.seed + 5),
  };
};

const runForward = (k: Case, mode: BatchNormMode) => {
  const d = inputsOf(k);
  return runGpu(Effect.gen(function* () {
    const x = yield* fromArray(d.x, d.shape, "f32");
    const state = {
      weight: yield* fromArray(d.weight, [k.c], "f32"),
      bias: yield* fromArray(d.bias, [k.c], "f32"),
      runningMean: yield* fromArray(d.runningMean, [k.c], "f32"),
      runningVar: yield* fromArray(d.runningVar, [k.c], "f32"),
    };
    const { y, stats } = yield* batchNorm(x, state, { mode });
    return {
      d,
      y: yield* download(y),
      stats: yield* download(stats),
      runningMean: yield* download(state.runningMean),
      runningVar: yield* download(state.runningVar),
    };
  }));
};

Deno.test({
  name: "batch norm training forward matches the reference and updates running stats in place",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (k) => {
        const got = await runForward(k, "train");
        const d = got.d;
        const ref = batchNormTrainReference(d.x, d.weight, d.bias, d.runningMean, d.runningVar);
        assertClose(got.y, ref.y, 2e-4, 2e-4, "y");
        assertClose(got.stats.subarray(0, k.c), ref.mean, 1e-4, 1e-5, "mean");
        assertClose(got.stats.subarray(k.c), ref.invStd, 1e-4, 2e-4, "invStd");
        assertClose(got.runningMean, ref.runningMean, 1e-5, 1e-5, "running mean");
        assertClose(got.runningVar, ref.runningVar, 1e-5, 1e-4, "running var");
      }),
      { seed: 42, numRuns: 15 },
    );
  },
});

Deno.test({
  name: "batch norm eval forward uses the running stats and leaves them unchanged",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (k) => {
        const got = await runForward(k, "eval");
        const d = got.d;
        const stats = evalStatsReference(d.runningMean, d.runningVar);
        assertClose(got.y, normalizeReference(d.x, stats, d.weight, d.bias), 1e-4, 1e-5, "y");
        assertClose(got.runningMean, d.runningMean, 0, 0, "running mean");
        assertClose(got.runningVar, d.runningVar, 0, 0, "running var");
      }),
      { seed: 42, numRuns: 10 },
    );
  },
});

Deno.test({
  name: "batch norm backward (train and eval) matches the reference",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.constantFrom("train", "eval"), async (k, mode) => {
        const d = inputsOf(k);
        const got = await runGpu(Effect.gen(function* () {
          const x = yield* fromArray(d.x, d.shape, "f32");
          const state = {
            weight: yield* fromArray(d.weight, [k.c], "f32"),
            bias: yield* fromArray(d.bias, [k.c], "f32"),
            runningMean: yield* fromArray(d.runningMean, [k.c], "f32"),
            runningVar: yield* fromArray(d.runningVar, [k.c], "f32"),
          };
          const { stats } = yield* batchNorm(x, state, { mode });
          const dy = yield* fromArray(d.dy, d.shape, "f32");
          const g = yield* batchNormBackward(x, dy, stats, state.weight, mode);
          return {
            dx: yield* download(g.dx),
            dWeight: yield* download(g.dWeight),
            dBias: yield* download(g.dBias),
          };
        }));
        const stats = mode === "train"
          ? batchNormTrainReference(d.x, d.weight, d.bias, d.runningMean, d.runningVar)
          : evalStatsReference(d.runningMean, d.runningVar);
        const ref = batchNormBackwardReference(d.x, d.dy, stats, d.weight, mode === "train");
        const scale = Math.max(1, ...ref.dx.map(Math.abs));
        assertClose(got.dx, ref.dx, 2e-4 * scale, 1e-3, "dx");
        assertClose(got.dWeight, ref.dWeight, 1e-3, 1e-3, "dWeight");
        assertClose(got.dBias, ref.dBias, 1e-4, 1e-4, "dBias");
      }),
      { seed: 42, numRuns: 16 },
    );
  },
});

Deno.test("batch norm reference backward equals central finite differences", () => {
  fc.assert(
    fc.property(caseArb, fc.boolean(), (k, train) => {
      const small = { ...k, h: Math.min(k.h, 3), w: Math.min(k.w, 3), c: Math.min(k.c, 3) };
      const d = inputsOf(small);
      const x = Float64Array.from(d.x);
      const weight = Float64Array.from(d.weight);
      const bias = Float64Array.from(d.bias);
      const frozen = evalStatsReference(d.runningMean, d.runningVar);
      const loss = (xs: Float64Array, ws: Float64Array, bs: Float64Array) => {
        const stats = train
          ? batchNormTrainReference(xs, ws, bs, d.runningMean, d.runningVar)
          : frozen;
        const y = normalizeReference(xs, stats, ws, bs);
        return y.reduce((s, v, i) => s + v * d.dy[i], 0);
      };
      const stats = train
        ? batchNormTrainReference(x, weight, bias, d.runningMean, d.runningVar)
        : frozen;
      const grads = batchNormBackwardReference(x, d.dy, stats, weight, train);
      const h = 1e-6;
      const numeric = (v: Float64Array, i: number, f: () => number) => {
        const keep = v[i];
        v[i] = keep + h;
        const up = f();
        v[i] = keep - h;
        const down = f();
        v[i] = keep;
        return (up - down) / (2 * h);
      };
      const f = () => loss(x, weight, bias);
      assertClose(grads.dx, x.map((_, i) => numeric(x, i, f)), 1e-5, 1e-4, "dx");
      assertClose(grads.dWeight, weight.map((_, i) => numeric(weight, i, f)), 1e-5, 1e-4, "dw");
      assertClose(grads.dBias, bias.map((_, i) => numeric(bias, i, f)), 1e-5, 1e-4, "db");
    }),
    { seed: 42, numRuns: 20 },
  );
});

Deno.test({
  name: "batch norm statistics stay accurate over 256 chunks with a large mean",
  ...gpuTestOptions,
  fn: async () => {
    const [n, h, w, c] = [2, 64, 64, 67];
    const shape = [n, h, w, c];
    // Mean 100, spread 1: a one-pass sum of squares would lose most digits here.
    const x = seededValues(n * h * w * c, 5).map((v) => 100 + v);
    const weight = new Float32Array(c).fill(1);
    const bias = new Float32Array(c);
    const rm = new Float32Array(c);
    const rv = new Float32Array(c).fill(1);
    const got = await runGpu(Effect.gen(function* () {
      const state = {
        weight: yield* fromArray(weight, [c], "f32"),
        bias: yield* fromArray(bias, [c], "f32"),
        runningMean: yield* fromArray(rm, [c], "f32"),
        runningVar: yield* fromArray(rv, [c], "f32"),
      };
      const { y, stats } = yield* batchNorm(yield* fromArray(x, shape, "f32"), state, {
        mode: "train",
      });
      return { y: yield* download(y), stats: yield* download(stats) };
    }));
    const ref = batchNormTrainReference(x, weight, bias, rm, rv);
    assertClose(got.stats.subarray(0, c), ref.mean, 1e-5, 1e-6, "mean");
    assertClose(got.stats.subarray(c), ref.invStd, 1e-5, 1e-4, "invStd");
    assertClose(got.y, ref.y, 2e-4, 1e-4, "y");
  },
});

Deno.test({
  name: "batch norm refuses training with a single value per channel, as PyTorch",
  ...gpuTestOptions,
  fn: async () => {
    const result = await runGpuResult(Effect.gen(function* () {
      const one = yield* fromArray([1, 2], [1, 1, 1, 2], "f32");
      const v = yield* fromArray([1, 1], [2], "f32");
      return yield* batchNorm(one, { weight: v, bias: v, runningMean: v, runningVar: v }, {
        mode: "train",
      });
    }));
    if (result._tag !== "Failure" || result.failure._tag !== "BindingError") {
      throw new Error(`expected a BindingError, got ${result._tag}`);
    }
  },
});
