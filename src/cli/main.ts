/**
 * The `gsc` command: `train` runs (or resumes) every step of a task,
 * `eval` evaluates a run's checkpoint, `synth` writes the synthetic
 * dataset. Install on the PATH with
 * `deno install -g -A -n gsc src/cli/main.ts`.
 *
 * @module
 */
import { Cause, Effect, Exit } from "effect";
import { describeAdapter, Gpu } from "../gpu/device.ts";
import { syntheticNotice } from "../incremental/data.ts";
import { runIncremental } from "../incremental/engine.ts";
import { evaluateRun } from "../incremental/evaluate_run.ts";
import { checkDeviceFits } from "./fit.ts";
import { makeProgressReporter } from "./progress.ts";
import { runCli } from "./run.ts";

/** Runs the CLI on `argv`; resolves to the process exit code. */
export const main = async (argv: readonly string[]): Promise<number> => {
  let reporter: ReturnType<typeof makeProgressReporter> | undefined;
  const program = runCli(argv, {
    train: (command) =>
      Effect.gen(function* () {
        reporter = makeProgressReporter({ quiet: command.quiet });
        const gpu = yield* Gpu;
        if (!command.quiet) console.error(`adapter: ${describeAdapter(gpu.adapter)}`);
        yield* checkDeviceFits(command.config, gpu.device.limits);
        const notice = yield* syntheticNotice(command.config);
        if (notice !== undefined) console.error(`note: ${notice}`);
        yield* runIncremental(command.config, {
          onEvent: reporter,
          resume: command.resume,
          command: ["gsc", ...argv].join(" "),
        });
        reporter.stop();
      }).pipe(Effect.provide(Gpu.layerFor(command.adapter))),
    eval: (command) =>
      Effect.scoped(evaluateRun(command)).pipe(Effect.provide(Gpu.layerFor(command.adapter))),
  });
  const exit = await Effect.runPromiseExit(program);
  reporter?.stop();
  if (Exit.isSuccess(exit)) return 0;
  const failure = Cause.findErrorOption(exit.cause);
  const error = failure._tag === "Some" ? failure.value : Cause.squash(exit.cause);
  const message = error instanceof Error ? error.message : String(error);
  console.error(`error: ${message || Cause.pretty(exit.cause)}`);
  const tag = (error as { _tag?: string })?._tag;
  return tag === "CliError" ? 2 : 1;
};

if (import.meta.main) Deno.exit(await main(Deno.args));
