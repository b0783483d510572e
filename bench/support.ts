/**
 * Benchmark support: run a program on a fresh device and time GPU work.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { describeAdapter, Gpu } from "../src/gpu/device.ts";
import type { GpuError } from "../src/gpu/errors.ts";

/** Runs a scoped program with the default GPU layer. */
export const runBench = <A, E>(program: Effect.Effect<A, E, Gpu | Scope.Scope>): Promise<A> => {
  Deno.env.set("XDG_RUNTIME_DIR", Deno.env.get("XDG_RUNTIME_DIR") ?? Deno.makeTempDirSync());
  return Effect.runPromise(Effect.scoped(program).pipe(Effect.provide(Gpu.layer)));
};

/** The adapter's one-line description. */
export const adapterLine: Effect.Effect<string, never, Gpu> = Effect.map(
  Gpu,
  (gpu) => describeAdapter(gpu.adapter),
);

/**
 * Seconds per call of `record` (which records GPU work). After warm-up, calls
 * are recorded in batches of one submit each, sized so that a batch takes at
 * least ~0.1 s: timing single calls would measure submit-and-wait latency.
 */
export const timeGpu = (
  record: Effect.Effect<void, GpuError, Gpu | Scope.Scope>,
  options: { warmup?: number; minSeconds?: number } = {},
): Effect.Effect<number, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const batchOf = (count: number) =>
      Effect.gen(function* () {
        const start = performance.now();
        yield* Effect.scoped(Effect.gen(function* () {
          for (let i = 0; i < count; i++) yield* record;
          yield* gpu.recorder.sync();
        }));
        return (performance.now() - start) / 1000;
      });
    const warmup = options.warmup ?? 2;
    const warmupSeconds = yield* batchOf(warmup);
    const single = Math.max(1e-4, warmupSeconds / warmup);
    const perBatch = Math.max(1, Math.ceil(0.1 / single));
    const minSeconds = options.minSeconds ?? 1;
    let seconds = 0;
    let calls = 0;
    while (seconds < minSeconds) {
      seconds += yield* batchOf(perBatch);
      calls += perBatch;
    }
    return seconds / calls;
  });

/** Pads table cells to aligned columns. */
export const table = (rows: readonly (readonly string[])[]): string => {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ")).join("\n");
};
