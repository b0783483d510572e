/**
 * Results as data: one record per finished run of a results table (the
 * synthetic benchmark's `results/synthetic.json`, `{"runs": [...]}`), built
 * from the run's step metrics, merged with the records already tabulated
 * (keyed by task, setting, row and seed), parsed back and checked. The
 * markdown table is rendered from these records (`results_markdown.ts`).
 * Every mIoU and IoU here is in percent.
 *
 * @module
 */
import type { StepMetrics } from "../types.ts";

/** One step of a run: mIoU (%) over its old, new and all classes (null where none). */
export interface ResultStep {
  readonly step: number;
  readonly old: number | null;
  /** Null at an incremental run's step 0; a joint run's one step has it (later classes). */
  readonly new: number | null;
  readonly all: number | null;
}

/** The last step's mIoU (%) on a larger test split (`deno task table --large-test N`). */
export interface LargeTestResult {
  readonly split: string;
  readonly images: number;
  readonly old: number | null;
  readonly new: number | null;
  readonly all: number | null;
}

/** One finished run of the table. */
export interface ResultRun {
  /** The task, e.g. `15-1`. */
  readonly task: string;
  /** The image filter, e.g. `overlap`. */
  readonly setting: string;
  /** The table's row label, e.g. `Joint`, `FT`, `GSC w/o SGC`. */
  readonly row: string;
  readonly seed: number;
  /** Every step in order (a joint run: one step, split old/new by the task's first step). */
  readonly steps: readonly ResultStep[];
  /** Average over steps of the all-class mIoU (%). */
  readonly avg: number | null;
  /** IoU (%) per class index after the last step; null where unseen or without ground truth. */
  readonly perClass: readonly (number | null)[];
  /** Training and evaluation time of the run (a shared step 0 excluded). */
  readonly minutes: number;
  /** The commit the run was trained (or first tabulated) at. */
  readonly commit: string;
  /** The `gsc train` command line of the run. */
  readonly command: string;
  readonly large?: LargeTestResult;
}

/** The file's content: `{"runs": [...]}`. */
export interface ResultsFile {
  readonly runs: readonly ResultRun[];
}

/** A fraction in percent, rounded to 1e-4 (null stays null). */
export const toPercent = (v: number | null | undefined): number | null =>
  v == null ? null : Math.round(v * 1e6) / 1e4;

/** What a run's record is built from. */
export interface RunRecordInput {
  readonly task: string;
  readonly setting: string;
  readonly row: string;
  readonly seed: number;
  /** Metrics of every step (`step-<t>.json`), in order. */
  readonly metrics: readonly StepMetrics[];
  /** Seconds of the run (`summary.json`'s `seconds`). */
  readonly seconds: number;
  readonly commit: string;
  readonly command: string;
  /** The last step's metrics on a larger test split, with its name. */
  readonly large?: { readonly split: string; readonly metrics: StepMetrics };
}

/** A run's record from its metrics (fractions become percent). */
export const runRecord = (input: RunRecordInput): ResultRun => {
  const { metrics } = input;
  if (metrics.length === 0) throw new RangeError(`run ${input.row}: no step metrics`);
  const all = metrics.map((m) => m.miouAll).filter((v): v is number => v !== null);
  const last = metrics[metrics.length - 1];
  const large = input.large && {
    split: input.large.split,
    images: input.large.metrics.images,
    old: toPercent(input.large.metrics.miouOld),
    new: toPercent(input.large.metrics.miouNew),
    all: toPercent(input.large.metrics.miouAll),
  };
  return {
    task: input.task,
    setting: input.setting,
    row: input.row,
    seed: input.seed,
    steps: metrics.map((m) => ({
      step: m.step,
      old: toPercent(m.miouOld),
      new: toPercent(m.miouNew),
      all: toPercent(m.miouAll),
    })),
    avg: all.length === 0 ? null : toPercent(all.reduce((a, b) => a + b, 0) / all.length),
    perClass: last.iou.map(toPercent),
    minutes: Math.round(input.seconds / 60 * 1e4) / 1e4,
    commit: input.commit,
    command: input.command,
    ...(large ? { large } : {}),
  };
};

/**
 * A one-step (joint) run's record read for another task with the same
 * classes: `task` takes it, and old / new are the mean IoU over the record's
 * per-class IoU of `oldClasses` (the task's first step) and of the other
 * classes with a value. They are means of the record's rounded IoUs (1e-4 %),
 * so they may differ from a split of the run's own metrics in the last digit.
 * A large-test result has no per-class IoU to split and is left out.
 */
export const resplitJointRecord = (
  record: ResultRun,
  task: string,
  oldClasses: readonly number[],
): ResultRun => {
  if (record.steps.length !== 1) {
    throw new RangeError(`${record.task} ${record.row}: ${record.steps.length} steps, not one`);
  }
  const seen = record.perClass.flatMap((v, c) => v === null ? [] : [c]);
  const mean = (classes: readonly number[]) =>
    classes.length === 0
      ? null
      : Math.round(classes.reduce((a, c) => a + record.perClass[c]!, 0) / classes.length * 1e4) /
        1e4;
  const { large: _large, ...rest } = record;
  return {
    ...rest,
    task,
    steps: [{
      ...record.steps[0],
      old: mean(seen.filter((c) => oldClasses.includes(c))),
      new: mean(seen.filter((c) => !oldClasses.includes(c))),
    }],
  };
};

/** The key a run is merged by: task, setting, row and seed. */
export const resultKey = (run: Pick<ResultRun, "task" | "setting" | "row" | "seed">): string =>
  JSON.stringify([run.task, run.setting, run.row, run.seed]);

/** Whether two records are of the same training run (read back again, not trained anew). */
const sameRun = (a: ResultRun, b: ResultRun) =>
  a.command === b.command && a.minutes === b.minutes &&
  JSON.stringify(a.steps) === JSON.stringify(b.steps);

/**
 * The records of `previous` with those of `found` merged in by
 * {@link resultKey}: a found record replaces the previous one of its key,
 * keeping the previous commit when it is the same training run read back
 * again (same command, time and metrics). Sorted by task, setting, row (in
 * `rowOrder`, unknown rows after it by name) and seed.
 */
export const mergeRuns = (
  previous: readonly ResultRun[],
  found: readonly ResultRun[],
  rowOrder: readonly string[] = [],
): ResultRun[] => {
  const byKey = new Map(previous.map((r) => [resultKey(r), r]));
  for (const run of found) {
    const old = byKey.get(resultKey(run));
    byKey.set(resultKey(run), old && sameRun(old, run) ? { ...run, commit: old.commit } : run);
  }
  const rank = (row: string) => {
    const i = rowOrder.indexOf(row);
    return i < 0 ? rowOrder.length : i;
  };
  return [...byKey.values()].sort((a, b) =>
    a.task.localeCompare(b.task, "en", { numeric: true }) ||
    a.setting.localeCompare(b.setting) || rank(a.row) - rank(b.row) ||
    a.row.localeCompare(b.row) || a.seed - b.seed
  );
};

/** The file's JSON text (pretty-printed, newline-terminated). */
export const resultsJson = (runs: readonly ResultRun[]): string =>
  JSON.stringify({ runs } satisfies ResultsFile, null, 2) + "\n";

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isNullableNumber = (v: unknown) => v === null || typeof v === "number";

/** Why a parsed run is not a {@link ResultRun}, or undefined when it is one. */
const runProblem = (v: unknown): string | undefined => {
  if (!isRecord(v)) return "not an object";
  for (const key of ["task", "setting", "row", "commit", "command"]) {
    if (typeof v[key] !== "string") return `${key} is not a string`;
  }
  for (const key of ["seed", "minutes"]) {
    if (typeof v[key] !== "number") return `${key} is not a number`;
  }
  if (!isNullableNumber(v.avg)) return "avg is not a number or null";
  if (!Array.isArray(v.perClass) || !v.perClass.every(isNullableNumber)) {
    return "perClass is not a list of numbers or nulls";
  }
  const steps = v.steps;
  const stepOk = (s: unknown) =>
    isRecord(s) && typeof s.step === "number" && isNullableNumber(s.old) &&
    isNullableNumber(s.new) && isNullableNumber(s.all);
  if (!Array.isArray(steps) || steps.length === 0 || !steps.every(stepOk)) {
    return "steps is not a non-empty list of {step, old, new, all}";
  }
  return undefined;
};

/** Parses a results file, failing with the first malformed run's index and problem. */
export const parseResults = (text: string): ResultsFile => {
  const value: unknown = JSON.parse(text);
  if (!isRecord(value) || !Array.isArray(value.runs)) {
    throw new SyntaxError('not a results file: expected {"runs": [...]}');
  }
  value.runs.forEach((run, i) => {
    const problem = runProblem(run);
    if (problem) throw new SyntaxError(`not a results file: runs[${i}]: ${problem}`);
  });
  return value as unknown as ResultsFile;
};
