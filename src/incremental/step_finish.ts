/**
 * The last phase of a step: the method's pass over the step's data, the
 * step's checkpoint, evaluation, the run's outputs (metrics, CSV, report)
 * and the checkpoint that marks the step done.
 *
 * @module
 */
import { Effect } from "effect";
import { evalLoaders } from "./data.ts";
import type { DataPass } from "./method.ts";
import { evaluateStep } from "./evaluate.ts";
import { writeStepOutputs } from "./outputs.ts";
import { type StepContext, writeStepCheckpoint } from "./step_context.ts";

/**
 * Finishes step `info.step`; `started` is when this process began it (a
 * resumed step counts only this process's time), `command` the command line
 * for the report.
 */
export const finishStep = (
  step: StepContext,
  dataPass: DataPass,
  started: number,
  command: string | undefined,
) =>
  Effect.gen(function* () {
    const { config, info, method, run, emit } = step;
    const t = info.step;
    if (method.endStep) yield* method.endStep(info, dataPass);
    const methodState = method.exportState ? yield* method.exportState() : undefined;
    yield* writeStepCheckpoint(step, step.paths.step(t), "step", methodState, undefined, {
      step: t,
    });
    const loaders = evalLoaders(step.data, config, t);
    const images = loaders.reduce((n, loader) => n + loader.order(0).length, 0);
    emit({ type: "eval-start", step: t, images });
    const evaluation = yield* evaluateStep(
      step.model,
      step.data.task,
      t,
      loaders,
      config.strips,
      step.data.split,
    );
    const stepSeconds = (performance.now() - started) / 1000;
    run.progress = {
      ...run.progress,
      stepDone: true,
      metrics: [...run.progress.metrics, evaluation.metrics],
      stepSeconds: [...run.progress.stepSeconds, stepSeconds],
    };
    emit({ type: "step-end", step: t, metrics: evaluation.metrics });
    yield* writeStepOutputs(config, step.data, run.progress, evaluation, command);
    yield* writeStepCheckpoint(step, step.paths.last, "step", methodState, undefined, { step: t });
  });
