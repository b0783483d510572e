/**
 * Matmul throughput (GFLOP/s) at 256, 512 and 1024, on the adapter at hand.
 *
 * @module
 */
import { Effect } from "effect";
import { matmulInto } from "../src/ops/matmul.ts";
import { fromArray } from "../src/tensor/tensor.ts";
import { adapterLine, runBench, table, timeGpu } from "./support.ts";

/** Prints the matmul table; returns GFLOP/s per size. */
export const benchMatmul = (sizes: readonly number[] = [256, 512, 1024]): Promise<number[]> =>
  runBench(Effect.gen(function* () {
    console.log(`\n## matmul (C = A B, f32) on ${yield* adapterLine}`);
    const rows = [["size", "ms", "GFLOP/s"]];
    const results: number[] = [];
    for (const n of sizes) {
      const data = Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 13) / 13 - 0.5);
      const a = yield* fromArray(data, [n, n], "f32");
      const b = yield* fromArray(data, [n, n], "f32");
      const c = yield* fromArray(data, [n, n], "f32");
      const seconds = yield* timeGpu(matmulInto(a, b, c, { m: n, n, k: n }), {
        minSeconds: n >= 1024 ? 2 : 1,
      });
      const gflops = (2 * n ** 3) / seconds / 1e9;
      results.push(gflops);
      rows.push([`${n}^3`, (seconds * 1000).toFixed(2), gflops.toFixed(2)]);
    }
    console.log(table(rows));
    return results;
  }));

if (import.meta.main) await benchMatmul();
