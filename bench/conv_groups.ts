/**
 * The convolution kernels' small workgroups on a CPU adapter against
 * workgroups of 64 (src/ops/conv_tiled.ts `convTuning.smallGroupsOnCpu`),
 * side by side in one run: the same training step (bench/model.ts's
 * `measure`) with each, alternating, per case. A dispatch of fewer than 16
 * workgroups of 64 takes workgroups of 8: llvmpipe runs a workgroup on one
 * thread, and a `small` model's 4x4 and 8x8 maps make a workgroup or two.
 *
 *     deno run -A bench/conv_groups.ts [--rounds 5] [--case small:8:64:16]...
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Effect } from "effect";
import type { Gpu } from "../kernels.ts";
import { withConvTuning } from "../src/ops/conv_tiled.ts";
import { caseLabel, measure, parseCase } from "./model.ts";
import { adapterLine, runBench, table } from "./support.ts";

/** Runs `fn` with small workgroups on (or off) for every adapter. */
const withSmallGroups = <A>(small: boolean, fn: () => Promise<A>): Promise<A> =>
  withConvTuning({ smallGroupsOnCpu: small, smallGroupsOnGpu: small }, fn);

const median = (v: readonly number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

if (import.meta.main) {
  const { values: flags } = parseArgs({
    args: Deno.args,
    options: {
      case: { type: "string", multiple: true, default: ["small:8:64:16", "small:8:64:8"] },
      rounds: { type: "string", default: "5" },
    },
  });
  await runBench(Effect.gen(function* () {
    console.log(`## Convolutions in small workgroups against 64, on ${yield* adapterLine}`);
    const context = yield* Effect.context<Gpu>();
    const run = <A, E>(program: Effect.Effect<A, E, Gpu>) =>
      Effect.runPromise(Effect.provide(program, context));
    const rows = [["case", "OS", "workgroups", "median ms/step", "train ms/step", "runs"]];
    const speedUps: string[] = [];
    for (const text of flags.case) {
      const c = parseCase(text);
      const ms = { large: [] as number[], small: [] as number[] };
      const train = { large: [] as number[], small: [] as number[] };
      for (let round = 0; round < Number(flags.rounds); round++) {
        for (const small of [false, true]) {
          const step = yield* Effect.promise(() => withSmallGroups(small, () => run(measure(c))));
          ms[small ? "small" : "large"].push(step.msPerStep);
          train[small ? "small" : "large"].push(step.trainMsPerStep);
        }
      }
      for (const kind of ["large", "small"] as const) {
        rows.push([
          caseLabel(c),
          String(c.outputStride),
          kind === "large" ? "64" : "8 where small",
          median(ms[kind]).toFixed(0),
          median(train[kind]).toFixed(0),
          ms[kind].map((v) => v.toFixed(0)).join(" "),
        ]);
      }
      speedUps.push(
        `${caseLabel(c)} OS${c.outputStride}: ${
          (median(ms.large) / median(ms.small)).toFixed(2)
        }x (ms/step), ${(median(train.large) / median(train.small)).toFixed(2)}x (train)`,
      );
    }
    console.log(table(rows));
    console.log(`speed-up of the medians, small workgroups: ${speedUps.join("; ")}`);
  }));
}
