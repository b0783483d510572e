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
 * Seconds per call of `record` (which records GPU work): warm-up calls, then
 * enough timed repetitions to pass `minSeconds`, each batch ending in a sync.
 */
export const timeGpu = (
  record: Effect.Effect<void, GpuError, Gpu | Scope.Scope>,
  options: { warmup?: number; minSeconds?: number; maxReps?: number } = {},
): Effect.Effect<number, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const once = Effect.scoped(record);
    for (let i = 0; i < (options.warmup ?? 2); i++) yield* once;
    yield* gpu.recorder.sync();
    const minSeconds = options.minSeconds ?? 1;
    const maxReps = options.maxReps ?? 1000;
    let reps = 0;
    const start = performance.now();
    while (reps < maxReps) {
      yield* once;
      reps++;
      yield* gpu.recorder.sync();
      if ((performance.now() - start) / 1000 >= minSeconds) break;
    }
    return (performance.now() - start) / 1000 / reps;
  });

/** Pads table cells to aligned columns. */
export const table = (rows: readonly (readonly string[])[]): string => {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ")).join("\n");
};
