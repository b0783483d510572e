/**
 * The vec4 matmul's 16-row blocks (`matmulTuning.rowHalves`, matmul_vec4.wgsl
 * HALVES = 2: a second 8-row half sharing B's loads) compute every output as
 * the 8-row blocks do: bit for bit the same C over random shapes whose rows
 * end anywhere in a block (the second half partly or wholly past M),
 * transposes, batches and accumulation. The default takes 16 rows only on a
 * CPU adapter, for a large C with A not transposed.
 */
import fc from "fast-check";
import { Effect } from "effect";
import { Gpu } from "../../src/gpu/device.ts";
import { matmulTuning } from "../../src/ops/matmul.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { bits, tracing } from "../support/tracing.ts";
import { type MatmulCase, matmulCaseProduct } from "../support/matmul_case.ts";

/** C for one case with blocks of 16 or 8 rows forced, and the HALVES that ran. */
const product = async (c: MatmulCase, halves: 1 | 2) => {
  const saved = matmulTuning.rowHalves;
  matmulTuning.rowHalves = () => halves;
  try {
    return await runGpu(Effect.gen(function* () {
      const traced = yield* tracing(matmulCaseProduct(c));
      const used = traced.dispatches.flatMap((d) =>
        d.kernel.includes("matmul_vec4") ? [d.constants.HALVES] : []
      );
      return { values: traced.result, used };
    }));
  } finally {
    matmulTuning.rowHalves = saved;
  }
};

Deno.test({
  name: "matmul in 16-row blocks equals 8-row blocks bit for bit",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          m: fc.integer({ min: 1, max: 40 }).map((v) => v * 4),
          n: fc.constantFrom(4, 16, 20, 64, 132, 200),
          k: fc.integer({ min: 1, max: 24 }).map((v) => v * 4),
          batch: fc.integer({ min: 1, max: 2 }),
          transA: fc.boolean(),
          transB: fc.boolean(),
          accumulate: fc.boolean(),
          seed: fc.integer({ min: 0, max: 1000 }),
        }),
        async (c) => {
          const tall = await product(c, 2);
          const short = await product(c, 1);
          const label = JSON.stringify(c);
          if (tall.used.join() !== "2" || short.used.join() !== "1") {
            throw new Error(`${label}: vec4 halves ${tall.used} and ${short.used}`);
          }
          if (bits(tall.values) !== bits(short.values)) {
            throw new Error(`${label}: 16-row and 8-row blocks differ`);
          }
        },
      ),
      { seed: 20261202, numRuns: 24 },
    );
  },
});

Deno.test({
  name: "matmul takes 16-row blocks by default only on a CPU adapter, for large C, A in place",
  ...gpuTestOptions,
  fn: async () => {
    const cpu = await runGpu(Effect.map(Gpu, (gpu) => gpu.adapter.isFallback));
    const big = { m: 1024, n: 256 };
    if (matmulTuning.rowHalves(big, true, 4, false) !== 2) throw new Error("CPU, large: 8 rows");
    if (matmulTuning.rowHalves(big, false, 4, false) !== 1) throw new Error("GPU: 16 rows");
    if (matmulTuning.rowHalves(big, true, 4, true) !== 1) throw new Error("A transposed: 16 rows");
    if (matmulTuning.rowHalves(big, true, 2, false) !== 1) throw new Error("8 columns: 16 rows");
    if (matmulTuning.rowHalves({ m: 64, n: 64 }, true, 4, false) !== 1) {
      throw new Error("small C: 16 rows");
    }
    const traced = await runGpu(Effect.gen(function* () {
      const c = { ...big, k: 8, batch: 1, transA: false, transB: false, accumulate: false };
      const run = yield* tracing(matmulCaseProduct({ ...c, seed: 1 }));
      return run.dispatches.flatMap((d) =>
        d.kernel.includes("matmul_vec4") ? [d.constants.HALVES] : []
      );
    }));
    if (traced.join() !== (cpu ? "2" : "1")) throw new Error(`default halves ${traced}`);
  },
});
