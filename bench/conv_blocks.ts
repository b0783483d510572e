/**
 * The register convolution's 16-channel blocks against its 8-channel ones,
 * side by side in one run (src/ops/conv_tiled.ts `convTuning.wideOnCpu` /
 * `wideOnGpu`): the forward pass and the input gradient of each shape of
 * bench/conv.ts (batches interleaved, the fastest of `--rounds` each), then
 * the same training step (bench/model.ts's `measure`) with each block, alternating.
 *
 *     deno run -A bench/conv_blocks.ts [--rounds 5] [--case small:8:64:8] [--no-step]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Effect } from "effect";
import type { Gpu } from "../kernels.ts";
import {
  conv2dBackwardInput,
  conv2dFlops,
  conv2dForward,
  conv2dGeometry,
} from "../src/ops/conv.ts";
import { withConvTuning } from "../src/ops/conv_tiled.ts";
import { type Batch, cases, caseTensors, oursBatch, timeTogether } from "./conv.ts";
import { alternatingSteps, caseLabel, median, parseCase } from "./model.ts";
import { adapterLine, runBench, table } from "./support.ts";

/** Runs `fn` with 16-channel blocks on (or off) for every adapter. */
const withBlocks = <A>(wide: boolean, fn: () => Promise<A>): Promise<A> =>
  withConvTuning({ wideOnCpu: wide, wideOnGpu: wide }, fn);

/** A batch run with 16-channel blocks on (or off). */
const switched = (batch: Batch, wide: boolean): Batch => (reps) =>
  withBlocks(wide, () => batch(reps));

if (import.meta.main) {
  const { values: flags } = parseArgs({
    args: Deno.args,
    options: {
      case: { type: "string", default: "small:8:64:8" },
      rounds: { type: "string", default: "5" },
      "no-step": { type: "boolean", default: false },
    },
  });
  await runBench(Effect.gen(function* () {
    console.log(`## 16- against 8-channel register blocks, on ${yield* adapterLine}`);
    const context = yield* Effect.context<Gpu>();
    const run = <A, E>(program: Effect.Effect<A, E, Gpu>) =>
      Effect.runPromise(Effect.provide(program, context));
    const rows = [["shape", "fwd GFLOP/s: 8 / 16", "ratio", "dx GFLOP/s: 8 / 16", "ratio"]];
    for (const c of cases) {
      const g = conv2dGeometry(c.input, c.filter, c.options);
      const { x, w, bias, dy } = yield* caseTensors(c, g);
      const forward = oursBatch(conv2dForward(x, w, bias, c.options), run);
      const input = oursBatch(conv2dBackwardInput(dy, w, c.input, c.options), run);
      const s = yield* Effect.promise(() =>
        timeTogether([
          switched(forward, false),
          switched(forward, true),
          switched(input, false),
          switched(input, true),
        ], Number(flags.rounds))
      );
      const rate = (seconds: number) => (conv2dFlops(g) / seconds / 1e9).toFixed(2);
      rows.push([
        c.label,
        `${rate(s[0])} / ${rate(s[1])}`,
        (s[0] / s[1]).toFixed(2),
        `${rate(s[2])} / ${rate(s[3])}`,
        (s[2] / s[3]).toFixed(2),
      ]);
    }
    console.log(table(rows));
    if (!flags["no-step"]) {
      const c = parseCase(flags.case);
      const steps = yield* alternatingSteps(c, Number(flags.rounds), [
        (fn) => withBlocks(false, fn),
        (fn) => withBlocks(true, fn),
      ]);
      const ms = { "8": steps[0].map((s) => s.msPerStep), "16": steps[1].map((s) => s.msPerStep) };
      console.log(`\n${caseLabel(c)} OS${c.outputStride} training step, ms (rounds alternate)`);
      console.log(table([
        ["blocks", "median", "runs"],
        ...(["8", "16"] as const).map((k) => [
          k,
          median(ms[k]).toFixed(0),
          ms[k].map((v) => v.toFixed(0)).join(" "),
        ]),
      ]));
      console.log(`speed-up of the median: ${(median(ms["8"]) / median(ms["16"])).toFixed(2)}x`);
    }
  }));
}
