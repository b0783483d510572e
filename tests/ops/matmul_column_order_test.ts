/**
 * The vec4 matmul with its workgroups walking C's blocks down columns
 * (`matmulTuning.columnOrder`, matmul_vec4.wgsl COLUMN_ORDER) computes every
 * block as the row order does: bit for bit the same C, over random shapes with
 * several block rows and columns, transposes, batches and accumulation.
 */
import fc from "fast-check";
import { gpuTestOptions } from "../support/gpu.ts";
import { bits } from "../support/tracing.ts";
import { type MatmulCase, matmulCases, tunedProduct } from "../support/matmul_case.ts";

/** C for one case with the blocks walked down columns or along rows, and the orders that ran. */
const product = async (c: MatmulCase, columns: boolean) => {
  const { values, used } = await tunedProduct(c, { columnOrder: () => columns }, "COLUMN_ORDER");
  return { values, orders: used };
};

Deno.test({
  name: "matmul with workgroups in column order equals row order bit for bit",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(
        matmulCases({
          // Blocks are 64 rows by 128 columns a workgroup: these shapes span 2-4 of each.
          m: fc.integer({ min: 17, max: 64 }).map((v) => v * 4),
          n: fc.constantFrom(132, 200, 256, 300, 516),
          k: fc.integer({ min: 1, max: 24 }).map((v) => v * 4),
        }),
        async (c) => {
          const columns = await product(c, true);
          const rows = await product(c, false);
          const label = JSON.stringify(c);
          if (columns.orders.join() !== "1" || rows.orders.join() !== "0") {
            throw new Error(`${label}: vec4 orders ${columns.orders} and ${rows.orders}`);
          }
          if (bits(columns.values) !== bits(rows.values)) {
            throw new Error(`${label}: the two orders differ`);
          }
        },
      ),
      { seed: 20261201, numRuns: 24 },
    );
  },
});
