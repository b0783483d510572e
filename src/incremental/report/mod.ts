/**
 * A run's report files, each written atomically (a temp file in the same
 * directory, then a rename, so a reader never sees half a file even if the
 * run is killed): PLOP's CSV (and `domains.csv` on domain tasks), a JSON
 * record per step, `report.md`, the mIoU plot and the prediction strips;
 * and, across runs, the results table's records and their markdown.
 *
 * @module
 */
import { Data, Effect } from "effect";
import type { StepMetrics } from "../types.ts";
import { plopCsv } from "./csv.ts";
import { stepJson } from "./json.ts";
import { type ReportInput, reportMarkdown } from "./markdown.ts";
import { miouPlotSvg } from "./plot_svg.ts";
import { stripPng, type StripRow } from "./strips.ts";
import { writeFileAtomically } from "../../io/atomic.ts";

export { plopCsv, plopCsvRow, pythonFloat } from "./csv.ts";
export { domainCsv } from "./domain_csv.ts";
export { parseStepJson, stepJson } from "./json.ts";
export type { StepRecord } from "./json.ts";
export { classList, percent, reportMarkdown } from "./markdown.ts";
export type { ReportInput } from "./markdown.ts";
export { escapeXml, miouPlotSvg, PLOT_SERIES } from "./plot_svg.ts";
export {
  mergeRuns,
  parseResults,
  resplitJointRecord,
  resultKey,
  resultsJson,
  runRecord,
  toPercent,
} from "./results.ts";
export type {
  LargeTestResult,
  ResultRun,
  ResultsFile,
  ResultStep,
  RunRecordInput,
} from "./results.ts";
export { meanStd, meanStdCell, resultsMarkdown } from "./results_markdown.ts";
export type { ResultsMarkdownOptions } from "./results_markdown.ts";
export { maskColour, STRIP_GAP, stripPixels, stripPng } from "./strips.ts";
export type { StripRow } from "./strips.ts";

/** A report file could not be written. */
export class ReportWriteError extends Data.TaggedError("ReportWriteError")<{
  readonly path: string;
  readonly reason: string;
}> {}

/** Writes text or bytes to `path` atomically, creating its directory if needed. */
export const writeFileAtomic = (path: string, data: Uint8Array | string) =>
  Effect.tryPromise({
    try: () => writeFileAtomically(path, data, { makeFolder: true }),
    catch: (error) => new ReportWriteError({ path, reason: String(error) }),
  });

/** `<out>/step-<t>.json`: the step's metrics and the caller's timings (seconds). */
export const writeStepJson = (
  out: string,
  metrics: StepMetrics,
  timing: Readonly<Record<string, number>>,
) => writeFileAtomic(`${out}/step-${metrics.step}.json`, stepJson(metrics, timing));

/** `<out>/metrics.csv` in PLOP's format (see csv.ts), rewritten whole after every step. */
export const writePlopCsv = (
  out: string,
  metrics: readonly StepMetrics[],
  totalClasses: number,
  options: { readonly header?: boolean } = {},
) => writeFileAtomic(`${out}/metrics.csv`, plopCsv(metrics, totalClasses, options));

/** `<out>/miou.svg`. */
export const writeMiouPlot = (
  out: string,
  metrics: readonly StepMetrics[],
  title?: string,
  totalSteps?: number,
) => writeFileAtomic(`${out}/miou.svg`, miouPlotSvg(metrics, title, totalSteps));

/** A strip PNG at `path` (usually `<out>/strips/step-<t>.png`); nothing when there are no rows. */
export const writeStrip = (path: string, rows: readonly StripRow[]) =>
  rows.length === 0
    ? Effect.void
    : Effect.flatMap(stripPng(rows), (bytes) => writeFileAtomic(path, bytes));

/** `<out>/report.md`. */
export const writeReportMarkdown = (out: string, input: ReportInput) =>
  writeFileAtomic(`${out}/report.md`, reportMarkdown(input));
