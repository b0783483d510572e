/**
 * Progress of a run on the terminal. On a TTY a cli-progress bar per step
 * shows batches, loss, images/s and the ETA while an epoch runs; every epoch,
 * evaluation and step end also prints one plain line, and that is all that is
 * printed to a pipe or a CI log. The bar is stopped (its line cleared, the
 * cursor restored) before each plain line and by `stop()`, which the caller
 * runs when the run ends or fails, so an error never lands inside a bar.
 *
 * Steps are shown as `t/last` with the engine's 0-based index (the same index
 * as `step-<t>.json` and the CSV rows); epochs and batches count from 1.
 *
 * @module
 */
import process from "node:process";
import cliProgress from "cli-progress";
import type { RunEvent, StepMetrics } from "../incremental/types.ts";

/** Where progress goes: anything with `write` (a Node stream, a test buffer). */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Options of {@link makeProgressReporter}. */
export interface ProgressOptions {
  /** Default: the process's stderr, keeping stdout for results. */
  readonly stream?: ProgressStream;
  /** Print nothing at all. */
  readonly quiet?: boolean;
  /** Draw the bar; default: whether the stream is a terminal. */
  readonly isTty?: boolean;
  /** Milliseconds clock for the ETA (default `performance.now`). */
  readonly now?: () => number;
}

/** Receives the engine's events; `stop()` clears a bar that is still drawn. */
export interface ProgressReporter {
  (event: RunEvent): void;
  stop(): void;
}

/** `t/last` when the step count is known, else `t`. */
export const stepLabel = (step: number, steps: number | undefined): string =>
  steps === undefined ? `step ${step}` : `step ${step}/${steps - 1}`;

const rate = (imagesPerSecond: number): string =>
  `${imagesPerSecond >= 10 ? imagesPerSecond.toFixed(0) : imagesPerSecond.toFixed(1)} img/s`;

const percent = (value: number | null): string => value === null ? "-" : (value * 100).toFixed(1);

/** Seconds as `42s`, `3m07s` or `1h05m`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** The plain line of an epoch: `step 2/5 epoch 3/4  loss 0.4123  212 img/s  3.1 s`. */
export function epochLine(
  event: Extract<RunEvent, { type: "epoch-end" }>,
  steps: number | undefined,
): string {
  return `${stepLabel(event.step, steps)} epoch ${event.epoch + 1}/${event.epochs}  ` +
    `loss ${event.loss.toFixed(4)}  ${rate(event.imagesPerSecond)}  ${event.seconds.toFixed(1)} s`;
}

/** The plain line of a finished step: mIoU (in %) of old, new and all seen classes. */
export function stepEndLine(metrics: StepMetrics, steps: number | undefined): string {
  return `${stepLabel(metrics.step, steps)} mIoU old ${percent(metrics.miouOld)}  ` +
    `new ${percent(metrics.miouNew)}  all ${percent(metrics.miouAll)}  ` +
    `(pixel acc ${percent(metrics.pixelAccuracy)}, ${metrics.images} images)`;
}

/** The plain line of any event, or undefined for the events only the bar shows. */
export function eventLine(event: RunEvent, steps: number | undefined): string | undefined {
  switch (event.type) {
    case "step-start":
      return `${stepLabel(event.step, event.steps)} ${
        event.cities ? `cities ${event.cities.join(",")}` : `classes ${event.classes.join(",")}`
      }  ` +
        (event.loadedFrom === undefined
          ? `${event.trainImages} images  ${event.epochs} epochs x ${event.batchesPerEpoch} batches`
          : `loaded from ${event.loadedFrom} (not trained)`);
    case "batch":
      return undefined;
    case "epoch-end":
      return epochLine(event, steps);
    case "eval-start":
      return `${stepLabel(event.step, steps)} evaluating ${event.images} images`;
    case "step-end":
      return stepEndLine(event.metrics, steps);
    case "resumed":
      return `resumed ${event.from} at step ${event.step}, epoch ${event.epoch + 1}`;
    case "stale-lock":
      return `took over ${event.path}: its run (pid ${event.pid} on ${event.hostname}, started ` +
        `${event.started}) is no longer running`;
    case "run-end":
      return `done in ${formatDuration(event.seconds)}; report ${event.reportPath}`;
  }
}

/** The bar's fields, recomputed on every batch. */
interface BarPayload {
  readonly label: string;
  readonly detail: string;
}

const barFormat = (
  options: { barsize?: number },
  params: { progress: number },
  payload: BarPayload,
): string => {
  const bar = cliProgress.Format.BarFormat(params.progress, options);
  const pct = `${Math.floor(params.progress * 100)}%`.padStart(4);
  return `${payload.label} ${bar} ${pct}  ${payload.detail}`;
};

/** Time per batch since the first batch this process saw of the step, for the ETA. */
interface StepClock {
  readonly step: number;
  readonly startedAt: number;
  readonly doneAtStart: number;
}

/**
 * Makes the engine's `onEvent` callback. Call `stop()` when the run ends or
 * fails (e.g. in `Effect.ensuring`): it clears a bar still on screen and
 * cancels its redraw timer.
 */
export function makeProgressReporter(options: ProgressOptions = {}): ProgressReporter {
  if (options.quiet) return Object.assign((_event: RunEvent) => {}, { stop() {} });
  const stream: ProgressStream = options.stream ?? process.stderr;
  const tty = options.isTty ?? stream.isTTY === true;
  const now = options.now ?? (() => performance.now());
  let steps: number | undefined;
  let bar: InstanceType<typeof cliProgress.SingleBar> | undefined;
  let clock: StepClock | undefined;

  const stopBar = () => {
    bar?.stop();
    bar = undefined;
  };
  const line = (text: string) => {
    stopBar();
    stream.write(text + "\n");
  };

  const showBatch = (event: Extract<RunEvent, { type: "batch" }>, epochs: number) => {
    const total = epochs * event.batches;
    const done = event.epoch * event.batches + event.batch + 1;
    if (clock?.step !== event.step) {
      clock = { step: event.step, startedAt: now(), doneAtStart: done };
    }
    const batchesTimed = done - clock.doneAtStart;
    const eta = batchesTimed > 0
      ? formatDuration(((now() - clock.startedAt) / 1000 / batchesTimed) * (total - done))
      : "?";
    const payload: BarPayload = {
      label: stepLabel(event.step, steps),
      detail: `epoch ${event.epoch + 1}/${epochs} batch ${event.batch + 1}/${event.batches}  ` +
        `loss ${event.loss.toFixed(4)}  ${rate(event.imagesPerSecond)}  ETA ${eta}`,
    };
    if (!bar) {
      bar = new cliProgress.SingleBar({
        // cli-progress reads only write/isTTY/columns and writes escape codes through readline.
        stream: {
          write: (text: string) => stream.write(text),
          isTTY: true,
          columns: stream.columns,
        },
        format: barFormat,
        barsize: 20,
        // Leave the terminal's line wrapping and cursor alone: if the process dies before
        // stop(), nothing stays switched off. The line is cut to the width instead.
        linewrap: true,
        hideCursor: false,
        clearOnComplete: true,
        fps: 10,
      });
      bar.start(total, done - 1, payload);
    }
    bar.update(done, payload);
  };

  let epochs = 1;
  const report = (event: RunEvent) => {
    if (event.type === "step-start") {
      steps = event.steps;
      epochs = event.epochs;
      clock = undefined;
    }
    if (event.type === "batch") {
      if (tty) showBatch(event, epochs);
      return;
    }
    const text = eventLine(event, steps);
    if (text !== undefined) line(text);
  };
  return Object.assign(report, { stop: stopBar });
}
