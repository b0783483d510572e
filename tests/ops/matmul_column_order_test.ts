/**
 * The vec4 matmul with its workgroups walking C's blocks down columns
 * (`matmulTuning.columnOrder`, matmul_vec4.wgsl COLUMN_ORDER) computes every
 * block as the row order does: bit for bit the same C, over random shapes with
 * several block rows and columns, transposes, batches and accumulation.
 */
import fc from "fast-check";
import { Effect } from "effect";
import { matmul, matmulInto, matmulTuning } from "../../src/ops/matmul.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { SeededRng } from "../../src/util/rng.ts";

interface Case {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly batch: number;
  readonly transA: boolean;
  readonly transB: boolean;
  readonly accumulate: boolean;
  readonly seed: number;
}

/** C for one case, with the blocks walked down columns or along rows. */
const product = async (c: Case, columns: boolean): Promise<Float32Array> => {
  const saved = matmulTuning.columnOrder;
  matmulTuning.columnOrder = () => columns;
  try {
    return await runGpu(Effect.gen(function* () {
      const rng = new SeededRng(c.seed);
      const draw = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
      const a = yield* fromArray(draw(c.batch * c.m * c.k), [c.batch * c.m * c.k], "f32");
      const b = yield* fromArray(draw(c.batch * c.k * c.n), [c.batch * c.k * c.n], "f32");
      const spec = { m: c.m, n: c.n, k: c.k, batch: c.batch, transA: c.transA, transB: c.transB };
      if (!c.accumulate) return yield* download(yield* matmul(a, b, spec));
      const out = yield* fromArray(draw(c.batch * c.m * c.n), [c.batch * c.m * c.n], "f32");
      yield* matmulInto(a, b, out, { ...spec, accumulate: true });
      return yield* download(out);
    }));
  } finally {
    matmulTuning.columnOrder = saved;
  }
};

Deno.test({
  name: "matmul with workgroups in column order equals row order bit for bit",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          // Blocks are 64 rows by 128 columns a workgroup: these shapes span 2-4 of each.
          m: fc.integer({ min: 17, max: 64 }).map((v) => v * 4),
          n: fc.constantFrom(132, 200, 256, 300, 516),
          k: fc.integer({ min: 1, max: 24 }).map((v) => v * 4),
          batch: fc.integer({ min: 1, max: 2 }),
          transA: fc.boolean(),
          transB: fc.boolean(),
          accumulate: fc.boolean(),
          seed: fc.integer({ min: 0, max: 1000 }),
        }),
        async (c) => {
          const columns = await product(c, true);
          const rows = await product(c, false);
          const bitsC = new Uint32Array(columns.buffer);
          const bitsR = new Uint32Array(rows.buffer);
          const at = bitsC.findIndex((v, i) => v !== bitsR[i]);
          if (bitsC.length !== bitsR.length || at >= 0) {
            throw new Error(`${JSON.stringify(c)}: C[${at}] ${columns[at]} against ${rows[at]}`);
          }
        },
      ),
      { seed: 20261201, numRuns: 24 },
    );
  },
});
