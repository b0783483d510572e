/**
 * The vec4 matmul's stacked row blocks (`matmulTuning.rowBlocks`,
 * matmul_vec4.wgsl ROW_BLOCKS = 2 or 4: 16 or 32 rows sharing B's loads)
 * compute every output as 8-row blocks do: bit for bit the same C over random
 * shapes whose rows end anywhere in a block (later blocks partly or wholly
 * past M), transposes, batches and accumulation. The default stacks blocks
 * only on a CPU adapter, for a large C with A not transposed.
 */
import fc from "fast-check";
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Effect } from "effect";
import { Gpu } from "../../src/gpu/device.ts";
import { matmulTuning } from "../../src/ops/matmul.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { bits, tracing } from "../support/tracing.ts";
import {
  type MatmulCase,
  matmulCaseProduct,
  matmulCases,
  tunedProduct,
} from "../support/matmul_case.ts";

/** C for one case with `blocks` 8-row blocks an invocation forced, and the ROW_BLOCKS that ran. */
const product = (c: MatmulCase, blocks: 1 | 2 | 4) =>
  tunedProduct(c, { rowBlocks: () => blocks }, "ROW_BLOCKS");

Deno.test({
  name: "matmul in 16- and 32-row blocks equals 8-row blocks bit for bit",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(
        matmulCases({
          m: fc.integer({ min: 1, max: 48 }).map((v) => v * 4),
          n: fc.constantFrom(4, 16, 20, 64, 132, 200),
          k: fc.integer({ min: 1, max: 24 }).map((v) => v * 4),
        }),
        async (c) => {
          const short = await product(c, 1);
          const label = JSON.stringify(c);
          if (short.used.join() !== "1") throw new Error(`${label}: row blocks ${short.used}`);
          for (const blocks of [2, 4] as const) {
            const tall = await product(c, blocks);
            if (tall.used.join() !== `${blocks}`) {
              throw new Error(`${label}: row blocks ${tall.used}, not ${blocks}`);
            }
            if (bits(tall.values) !== bits(short.values)) {
              throw new Error(`${label}: ${8 * blocks}-row and 8-row blocks differ`);
            }
          }
        },
      ),
      { seed: 20261202, numRuns: 24 },
    );
  },
});

Deno.test({
  name: "matmul stacks row blocks by default only on a CPU adapter, for large C, A in place",
  ...gpuTestOptions,
  fn: async () => {
    const cpu = await runGpu(Effect.map(Gpu, (gpu) => gpu.adapter.isFallback));
    const blocks = (m: number, n: number, isFallback = true, colQuads = 4, transA = false) =>
      matmulTuning.rowBlocks({ m, n }, isFallback, colQuads, transA);
    assertEquals(blocks(1024, 256), 4, "CPU, large C");
    assertEquals(blocks(256, 256), 2, "CPU, 256 blocks of 16 rows");
    assertEquals(blocks(64, 64), 1, "CPU, small C");
    assertEquals(blocks(1024, 256, false), 1, "GPU");
    assertEquals(blocks(1024, 256, true, 4, true), 1, "A transposed");
    assertEquals(blocks(1024, 256, true, 2), 1, "8 columns a block");
    const traced = await runGpu(Effect.gen(function* () {
      const c = {
        m: 1024,
        n: 256,
        k: 8,
        batch: 1,
        transA: false,
        transB: false,
        accumulate: false,
      };
      const run = yield* tracing(matmulCaseProduct({ ...c, seed: 1 }));
      return run.dispatches.flatMap((d) =>
        d.kernel.includes("matmul_vec4") ? [d.constants.ROW_BLOCKS] : []
      );
    }));
    assertEquals(traced, [cpu && matmulTuning.tallOnCpu ? 4 : 1], "the default");
  },
});
