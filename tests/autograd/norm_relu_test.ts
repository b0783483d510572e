import fc from "fast-check";
import { Effect } from "effect";
import { add, addRelu, mul, relu, sumAll } from "../../src/autograd/basic.ts";
import { batchNorm } from "../../src/autograd/norm.ts";
import { constant, grad, parameter } from "../../src/autograd/tape.ts";
import { setSinglePassRows } from "../../src/ops/norm.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { seededValues } from "../support/arbitrary.ts";

/** Batch norm then ReLU, fused or as two nodes: output and gradients of sum(out * g). */
const run = (
  k: { n: number; h: number; c: number; mode: "train" | "eval"; seed: number },
  fused: boolean,
) =>
  runGpu(Effect.gen(function* () {
    const shape = [k.n, k.h, k.h, k.c];
    const size = k.n * k.h * k.h * k.c;
    const x = parameter(yield* fromArray(seededValues(size, k.seed, 2), shape, "f32"), "x");
    const w = parameter(yield* fromArray(seededValues(k.c, k.seed + 1, 1.5), [k.c], "f32"), "w");
    const b = parameter(yield* fromArray(seededValues(k.c, k.seed + 2), [k.c], "f32"), "b");
    const variance = seededValues(k.c, k.seed + 3).map((v) => 1 + Math.abs(v));
    const running = {
      mean: yield* fromArray(seededValues(k.c, k.seed + 4), [k.c], "f32"),
      variance: yield* fromArray(variance, [k.c], "f32"),
    };
    const out = fused
      ? yield* batchNorm(x, w, b, running, { mode: k.mode, relu: true })
      : yield* relu(yield* batchNorm(x, w, b, running, { mode: k.mode }));
    const g = constant(yield* fromArray(seededValues(size, k.seed + 5), shape, "f32"));
    const grads = yield* grad(yield* sumAll(yield* mul(out, g)), [x, w, b]);
    const host = [yield* download(out.value)];
    for (const t of grads) host.push(yield* download(t));
    host.push(yield* download(running.mean), yield* download(running.variance));
    return host;
  }));

Deno.test({
  name: "batch norm with its ReLU fused equals batch norm then ReLU, bit for bit",
  ...gpuTestOptions,
  fn: async () => {
    let masked = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          // Two values a channel at least: training needs a variance.
          n: fc.integer({ min: 2, max: 3 }),
          h: fc.integer({ min: 1, max: 6 }),
          c: fc.integer({ min: 1, max: 9 }),
          mode: fc.constantFrom("train" as const, "eval" as const),
          seed: fc.integer({ min: 1, max: 1 << 20 }),
        }),
        async (k) => {
          // Half the draws through the chunked reductions, half through the one-pass ones.
          const limit = setSinglePassRows(k.seed % 2 === 0 ? 0 : Infinity);
          const [plain, fused] = await (async () => {
            try {
              return [await run(k, false), await run(k, true)];
            } finally {
              setSinglePassRows(limit);
            }
          })();
          const names = ["y", "dx", "dweight", "dbias", "running mean", "running var"];
          names.forEach((name, i) => assertClose(fused[i], plain[i], 0, 0, name));
          // Some outputs were cut by the ReLU (else the mask went untested).
          if (plain[0].some((v) => v === 0)) masked++;
        },
      ),
      { seed: 11, numRuns: 20 },
    );
    if (masked < 10) throw new Error(`only ${masked} of 20 draws had a ReLU-cut output`);
  },
});

Deno.test({
  name: "addRelu equals relu(add) bit for bit, output and both gradients",
  ...gpuTestOptions,
  fn: async () => {
    const size = 300;
    const runJoin = (fused: boolean) =>
      runGpu(Effect.gen(function* () {
        const a = parameter(yield* fromArray(seededValues(size, 1, 2), [size], "f32"), "a");
        const b = parameter(yield* fromArray(seededValues(size, 2, 2), [size], "f32"), "b");
        const out = fused ? yield* addRelu(a, b) : yield* relu(yield* add(a, b));
        const g = constant(yield* fromArray(seededValues(size, 3), [size], "f32"));
        const grads = yield* grad(yield* sumAll(yield* mul(out, g)), [a, b]);
        const host = [yield* download(out.value)];
        for (const t of grads) host.push(yield* download(t));
        return host;
      }));
    const [plain, fused] = [await runJoin(false), await runJoin(true)];
    ["y", "da", "db"].forEach((name, i) => assertClose(fused[i], plain[i], 0, 0, name));
    if (!plain[0].some((v) => v === 0)) throw new Error("no output was cut by the ReLU");
  },
});
