/**
 * The library used from a script: an incremental GSC run on the built-in
 * synthetic dataset through the public entry (`mod.ts`), with the progress
 * events printed as they come. Write the dataset first (`deno task gsc synth`).
 *
 *   deno run -A examples/api.ts [extra gsc train options, e.g. --method plop]
 *
 * @module
 */
import { Effect, Result } from "effect";
import { Gpu, parseTrainOptions, runIncremental } from "../mod.ts";

const parsed = parseTrainOptions([
  "--dataset",
  "synth",
  "--task",
  "15-1",
  "--overlap",
  "--method",
  "gsc",
  "--out",
  "runs/api",
  ...Deno.args,
]);
if (!Result.isSuccess(parsed)) {
  console.error(parsed.failure.message);
  Deno.exit(2);
}
const summary = await Effect.runPromise(
  runIncremental(parsed.success.config, {
    onEvent: (event) => {
      if (event.type !== "step-end") return;
      const all = event.metrics.miouAll;
      console.log(`step ${event.step}: mIoU ${all === null ? "-" : (100 * all).toFixed(1)}`);
    },
  }).pipe(Effect.provide(Gpu.layer)),
);
console.log(`finished: ${summary.out}`);
