/**
 * The machine-readable record of one step, `step-<t>.json`: the step's
 * {@link StepMetrics} (IoU fractions, null where a class is unseen or has no
 * ground truth) plus the timing fields the caller passes (seconds).
 *
 * @module
 */
import type { StepMetrics } from "../types.ts";

/** What `step-<t>.json` holds. */
export type StepRecord = StepMetrics & { readonly [timing: string]: unknown };

/** The record's JSON text (pretty-printed, newline-terminated). */
export const stepJson = (metrics: StepMetrics, timing: Readonly<Record<string, number>>): string =>
  JSON.stringify({ ...metrics, ...timing }, null, 2) + "\n";

const isNumberList = (v: unknown): v is number[] =>
  Array.isArray(v) && v.every((x) => typeof x === "number");
const isNullableNumber = (v: unknown) => v === null || typeof v === "number";

/** Parses a step record back, checking the {@link StepMetrics} fields. */
export const parseStepJson = (text: string): StepRecord => {
  const value = JSON.parse(text) as Record<string, unknown>;
  const ok = typeof value === "object" && value !== null &&
    typeof value.step === "number" && typeof value.images === "number" &&
    typeof value.pixelAccuracy === "number" &&
    isNumberList(value.seenClasses) && isNumberList(value.oldClasses) &&
    isNumberList(value.newClasses) &&
    Array.isArray(value.iou) && value.iou.every(isNullableNumber) &&
    isNullableNumber(value.miouAll) && isNullableNumber(value.miouOld) &&
    isNullableNumber(value.miouNew);
  if (!ok) throw new SyntaxError("not a step record: a StepMetrics field is missing or mistyped");
  return value as unknown as StepRecord;
};
