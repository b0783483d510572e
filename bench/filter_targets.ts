/**
 * The filter gradient's split-K target on a CPU adapter, side by side in one
 * run: for each shape of bench/conv.ts, the forward pass and the filter
 * gradient at each target number of invocations (`filterTuning.cpuTargetInvocations`),
 * batches interleaved, the fastest of `--rounds` each. The filter gradient
 * against the forward is what `deno task bench` judges (bench/ratios.ts).
 *
 *     deno run -A bench/filter_targets.ts [--targets 512,1024,2048,4096] [--rounds 5]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Effect } from "effect";
import type { Gpu } from "../kernels.ts";
import {
  conv2dBackwardFilter,
  conv2dFlops,
  conv2dForward,
  conv2dGeometry,
  filterTuning,
} from "../src/ops/conv.ts";
import { type Batch, cases, caseTensors, oursBatch, timeTogether } from "./conv.ts";
import { adapterLine, runBench, table } from "./support.ts";

/** A batch run with the CPU target set to `target`; the tuning is restored after. */
const withTarget = (batch: Batch, target: number): Batch => async (reps) => {
  const saved = filterTuning.cpuTargetInvocations;
  filterTuning.cpuTargetInvocations = target;
  try {
    return await batch(reps);
  } finally {
    filterTuning.cpuTargetInvocations = saved;
  }
};

if (import.meta.main) {
  const { values: flags } = parseArgs({
    args: Deno.args,
    options: {
      targets: { type: "string", default: "512,1024,2048,4096" },
      rounds: { type: "string", default: "5" },
    },
  });
  const targets = flags.targets.split(",").map(Number);
  await runBench(Effect.gen(function* () {
    console.log(`## filter gradient by CPU split-K target, GFLOP/s, on ${yield* adapterLine}`);
    const context = yield* Effect.context<Gpu>();
    const run = <A, E>(program: Effect.Effect<A, E, Gpu>) =>
      Effect.runPromise(Effect.provide(program, context));
    const rows = [["shape", "fwd", ...targets.map((t) => `dw at ${t}`)]];
    for (const c of cases) {
      const g = conv2dGeometry(c.input, c.filter, c.options);
      const { x, w, bias, dy } = yield* caseTensors(c, g);
      const forward = oursBatch(conv2dForward(x, w, bias, c.options), run);
      const filter = oursBatch(conv2dBackwardFilter(x, dy, c.filter, c.options), run);
      const seconds = yield* Effect.promise(() =>
        timeTogether(
          [forward, ...targets.map((t) => withTarget(filter, t))],
          Number(flags.rounds),
        )
      );
      rows.push([c.label, ...seconds.map((s) => (conv2dFlops(g) / s / 1e9).toFixed(2))]);
    }
    console.log(table(rows));
  }));
}
