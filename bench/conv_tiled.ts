/**
 * The workgroup-tiled convolution (src/ops/conv_tiled.ts) against the
 * register-tiled one, side by side in one run: the forward pass, the input
 * gradient and the filter gradient of each shape of bench/conv.ts (batches
 * interleaved), then the
 * same training step (bench/model.ts's `measure`) with each kernel. The tiled
 * kernel is off by default; this is the measurement that would turn it on for
 * GPUs.
 *
 *     deno run -A bench/conv_tiled.ts [--case resnet101:8:512:16:2] [--no-step] [--json FILE]
 *
 * Both kernels run on any adapter here (on a CPU adapter the tiled one is
 * forced through its test switch; llvmpipe runs a kernel with barriers slowly).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Effect } from "effect";
import type { Gpu } from "../kernels.ts";
import {
  conv2dBackwardFilter,
  conv2dBackwardInput,
  conv2dFlops,
  conv2dForward,
  conv2dGeometry,
} from "../src/ops/conv.ts";
import { withConvTuning } from "../src/ops/conv_tiled.ts";
import { type Batch, cases, caseTensors, oursBatch, timeTogether } from "./conv.ts";
import { caseLabel, measure, parseCase, type StepResult } from "./model.ts";
import { adapterLine, runBench, table } from "./support.ts";

/** Runs `fn` with the tiled kernel on (or off) for every adapter. */
const withTiled = <A>(tiled: boolean, fn: () => Promise<A>): Promise<A> =>
  withConvTuning({ tiledOnGpu: tiled, tiledOnCpu: tiled }, fn);

/** A batch run with the tiled kernel on (or off) for every adapter. */
const switched = (batch: Batch, tiled: boolean): Batch => (reps) =>
  withTiled(tiled, () => batch(reps));

if (import.meta.main) {
  const { values: flags } = parseArgs({
    args: Deno.args,
    options: {
      case: { type: "string", default: "resnet101:8:512:16:2" },
      "no-step": { type: "boolean", default: false },
      json: { type: "string" },
    },
  });
  const shapes: { label: string; gflops: number[] }[] = [];
  const steps: { tiled: boolean; step: StepResult }[] = [];
  await runBench(Effect.gen(function* () {
    console.log(
      `## the tiled convolution against the register-tiled one, on ${yield* adapterLine}`,
    );
    const context = yield* Effect.context<Gpu>();
    const run = <A, E>(program: Effect.Effect<A, E, Gpu>) =>
      Effect.runPromise(Effect.provide(program, context));
    for (const c of cases) {
      const g = conv2dGeometry(c.input, c.filter, c.options);
      const { x, w, bias, dy } = yield* caseTensors(c, g);
      const forward = oursBatch(conv2dForward(x, w, bias, c.options), run);
      const input = oursBatch(conv2dBackwardInput(dy, w, c.input, c.options), run);
      const filter = oursBatch(conv2dBackwardFilter(x, dy, c.filter, c.options), run);
      const seconds = yield* Effect.promise(() =>
        timeTogether([
          switched(forward, false),
          switched(forward, true),
          switched(input, false),
          switched(input, true),
          switched(filter, false),
          switched(filter, true),
        ])
      );
      shapes.push({ label: c.label, gflops: seconds.map((s) => conv2dFlops(g) / s / 1e9) });
    }
    console.log(table([
      ["shape", "fwd: register / tiled", "dx: register / tiled", "dw: register / tiled"],
      ...shapes.map((s) => [
        s.label,
        `${s.gflops[0].toFixed(1)} / ${s.gflops[1].toFixed(1)}`,
        `${s.gflops[2].toFixed(1)} / ${s.gflops[3].toFixed(1)}`,
        `${s.gflops[4].toFixed(1)} / ${s.gflops[5].toFixed(1)}`,
      ]),
    ]));
    if (!flags["no-step"]) {
      const c = parseCase(flags.case);
      for (const tiled of [false, true]) {
        const step = yield* Effect.promise(() => withTiled(tiled, () => run(measure(c))));
        steps.push({ tiled, step });
      }
      console.log(`\n${caseLabel(c)} OS${c.outputStride} training step`);
      console.log(table([
        ["convolution", "ms/step", "train ms/step", "peak MiB"],
        ...steps.map(({ tiled, step }) => [
          tiled ? "tiled" : "register",
          step.msPerStep.toFixed(0),
          step.trainMsPerStep.toFixed(0),
          step.peakMiB.toFixed(0),
        ]),
      ]));
    }
  }));
  if (flags.json) {
    await Deno.writeTextFile(flags.json, JSON.stringify({ shapes, steps }, null, 2) + "\n");
  }
}
