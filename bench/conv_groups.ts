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
import { withConvTuning } from "../src/ops/conv_tiled.ts";
import {
  alternatingSteps,
  caseLabel,
  median,
  parseCase,
  type Setting,
  type StepResult,
} from "./model.ts";
import { adapterLine, runBench, table } from "./support.ts";

/** Runs `fn` with small workgroups on (or off) for every adapter. */
const withSmallGroups = (small: boolean): Setting => (fn) =>
  withConvTuning({ smallGroupsOnCpu: small, smallGroupsOnGpu: small }, fn);

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
    const rows = [["case", "OS", "workgroups", "median ms/step", "train ms/step", "runs"]];
    const speedUps: string[] = [];
    for (const text of flags.case) {
      const c = parseCase(text);
      const [large, small] = yield* alternatingSteps(c, Number(flags.rounds), [
        withSmallGroups(false),
        withSmallGroups(true),
      ]);
      const ms = (steps: readonly StepResult[]) => median(steps.map((s) => s.msPerStep));
      const train = (steps: readonly StepResult[]) => median(steps.map((s) => s.trainMsPerStep));
      for (const [label, steps] of [["64", large], ["8 where small", small]] as const) {
        rows.push([
          caseLabel(c),
          String(c.outputStride),
          label,
          ms(steps).toFixed(0),
          train(steps).toFixed(0),
          steps.map((s) => s.msPerStep.toFixed(0)).join(" "),
        ]);
      }
      speedUps.push(
        `${caseLabel(c)} OS${c.outputStride}: ${(ms(large) / ms(small)).toFixed(2)}x (ms/step), ` +
          `${(train(large) / train(small)).toFixed(2)}x (train)`,
      );
    }
    console.log(table(rows));
    console.log(`speed-up of the medians, small workgroups: ${speedUps.join("; ")}`);
  }));
}
