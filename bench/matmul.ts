/**
 * Matmul throughput (GFLOP/s) on the adapter at hand: squares at 256, 512 and
 * 1024, then the model's shapes (pointwise convolutions and the classifier,
 * M = pixels of a batch of 8 at 16x16 or 64x64).
 *
 * @module
 */
import { Effect } from "effect";
import { matmulInto } from "../src/ops/matmul.ts";
import { fromArray } from "../src/tensor/tensor.ts";
import { adapterLine, fastestBatch, runBench, table } from "./support.ts";

/** One product C [m, n] = A [m, k] B [k, n], labelled. */
export interface MatmulShape {
  readonly label: string;
  readonly m: number;
  readonly k: number;
  readonly n: number;
}

const square = (n: number): MatmulShape => ({ label: `${n}^3`, m: n, k: n, n });

/** The default rows: squares, then the model's shapes (a 21-class classifier is unaligned). */
export const MATMUL_SHAPES: readonly MatmulShape[] = [
  square(256),
  square(512),
  square(1024),
  { label: "8x16x16 pixels, 256 -> 256", m: 2048, k: 256, n: 256 },
  { label: "8x16x16 pixels, 128 -> 64", m: 2048, k: 128, n: 64 },
  { label: "8x64x64 pixels, 64 -> 256", m: 32768, k: 64, n: 256 },
  { label: "8x64x64 pixels, 256 -> 64", m: 32768, k: 256, n: 64 },
  { label: "8x64x64 pixels, 64 -> 16 classes", m: 32768, k: 64, n: 16 },
  { label: "8x64x64 pixels, 256 -> 21 classes", m: 32768, k: 256, n: 21 },
];

/** Timed batches per shape; the fastest counts, as in bench/conv.ts (other work may share the cores). */

/** Prints the matmul table; returns GFLOP/s per shape. */
export const benchMatmul = (shapes: readonly MatmulShape[] = MATMUL_SHAPES): Promise<number[]> =>
  runBench(Effect.gen(function* () {
    console.log(`\n## matmul (C = A B, f32) on ${yield* adapterLine}`);
    const rows = [["shape", "M x K x N", "ms", "GFLOP/s"]];
    const results: number[] = [];
    const values = (length: number) =>
      Float32Array.from({ length }, (_, i) => ((i * 7919) % 13) / 13 - 0.5);
    for (const { label, m, k, n } of shapes) {
      const a = yield* fromArray(values(m * k), [m, k], "f32");
      const b = yield* fromArray(values(k * n), [k, n], "f32");
      const c = yield* fromArray(values(m * n), [m, n], "f32");
      const flops = 2 * m * n * k;
      const seconds = yield* fastestBatch(matmulInto(a, b, c, { m, n, k }), flops >= 2e9 ? 2 : 1);
      const gflops = flops / seconds / 1e9;
      results.push(gflops);
      rows.push([label, `${m}x${k}x${n}`, (seconds * 1000).toFixed(2), gflops.toFixed(2)]);
    }
    console.log(table(rows));
    return results;
  }));

if (import.meta.main) await benchMatmul();
