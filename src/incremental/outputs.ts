/**
 * What a run leaves in its directory besides checkpoints: `config.json`,
 * and after every step `step-<t>.json`, `step-<t>-confusion.csv` (the
 * evaluation's confusion matrix in pixels, `confusion_report.ts`), `metrics.csv` (PLOP's format;
 * domain tasks also `domains.csv`, the cities and mIoU per domain step),
 * `report.md`, `miou.svg`, `strips/step-<t>.png` and `summary.json` (the
 * machine-readable final numbers the results table reads; a joint run's
 * also names its old/new split, `joint`).
 *
 * @module
 */
import { Effect } from "effect";
import { averageOverSteps } from "./metrics.ts";
import { classConfusions, confusionCsv } from "./confusion_report.ts";
import {
  domainCsv,
  writeFileAtomic,
  writeMiouPlot,
  writePlopCsv,
  writeReportMarkdown,
  writeStepJson,
  writeStrip,
} from "./report/mod.ts";
import type { RunData } from "./data.ts";
import type { Evaluation } from "./evaluate.ts";
import type { Progress } from "./run_state.ts";
import type { RunConfig } from "./types.ts";

/** Writes the resolved configuration. */
export const writeConfig = (config: RunConfig, command: string | undefined) =>
  writeFileAtomic(
    `${config.out}/config.json`,
    JSON.stringify({ command, ...config }, null, 2) + "\n",
  );

/** Writes every output of a finished step. */
export const writeStepOutputs = (
  config: RunConfig,
  data: RunData,
  progress: Progress,
  evaluation: Evaluation,
  command: string | undefined,
) =>
  Effect.gen(function* () {
    const out = config.out;
    const metrics = progress.metrics;
    const step = evaluation.metrics.step;
    const classNames = data.train.info.classNames;
    yield* writeStepJson(out, evaluation.metrics, {
      trainSeconds: progress.stepSeconds[progress.stepSeconds.length - 1],
      evalSeconds: evaluation.seconds,
    });
    const k = Math.sqrt(evaluation.matrix.length);
    const seen = evaluation.metrics.seenClasses;
    yield* writeFileAtomic(
      `${out}/step-${step}-confusion.csv`,
      confusionCsv(evaluation.matrix, k, seen),
    );
    yield* writePlopCsv(out, metrics, classNames.length);
    const task = data.task;
    const domains = task.kind === "domain" ? task.steps : undefined;
    if (domains) yield* writeFileAtomic(`${out}/domains.csv`, domainCsv(metrics, domains));
    yield* writeMiouPlot(out, metrics);
    yield* writeStrip(`${out}/strips/step-${step}.png`, evaluation.strips);
    yield* writeReportMarkdown(out, {
      config,
      command,
      metrics,
      stepSeconds: progress.stepSeconds,
      classNames,
      steps: task.kind === "domain" ? task.steps.map(() => task.classes) : task.steps,
      ...(domains ? { domains } : {}),
      confusion: classConfusions(evaluation.matrix, k, seen, 1),
    });
    const final = metrics[metrics.length - 1];
    // A joint run's one step, split as an incremental run's last step: old = the task's first step.
    const joint = data.split && {
      oldClasses: data.split.old,
      newClasses: data.split.new,
      miouOld: final.miouOld,
      miouNew: final.miouNew,
      miouAll: final.miouAll,
    };
    yield* writeFileAtomic(
      `${out}/summary.json`,
      JSON.stringify(
        {
          complete: metrics.length === data.task.steps.length,
          steps: metrics.length,
          final,
          average: averageOverSteps(metrics),
          seconds: progress.stepSeconds.reduce((a, b) => a + b, 0),
          ...(joint ? { joint } : {}),
        },
        null,
        2,
      ) + "\n",
    );
  });
