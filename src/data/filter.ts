/**
 * Which images a step trains on, exactly as MiB filters them, from each
 * image's set of labels:
 * - overlapped: keep an image if it has a pixel of a current class (other than 0);
 * - disjoint: additionally every label must be current, old, 0 or 255.
 * Images with only old classes (or only background) are dropped in both.
 *
 * @module
 */
import { IGNORE_LABEL } from "./classes.ts";
import type { StepClasses } from "./labels.ts";

/** MiB's two ways of building a step's training set. */
export type FilterSetting = "overlapped" | "disjoint";

/** Whether an image with these labels is in the step's training set. */
export function keepImage(
  labels: readonly number[],
  step: StepClasses,
  setting: FilterSetting,
): boolean {
  const current = new Set(step.current.filter((c) => c !== 0));
  if (!labels.some((l) => current.has(l))) return false;
  if (setting === "overlapped") return true;
  const allowed = new Set([...step.current, ...step.old, 0, IGNORE_LABEL]);
  return labels.every((l) => allowed.has(l));
}

/** Indices of the images a step trains on, in their original order. */
export function filterImages(
  classSets: readonly (readonly number[])[],
  step: StepClasses,
  setting: FilterSetting,
): number[] {
  const kept: number[] = [];
  for (let i = 0; i < classSets.length; i++) {
    if (keepImage(classSets[i], step, setting)) kept.push(i);
  }
  return kept;
}
