/**
 * `domains.csv`, written beside PLOP's `metrics.csv` by domain-incremental
 * runs (Cityscapes' cities): one row per domain step with a header, the
 * cities the step added (`;`-separated), the mIoU on all test images of the
 * seen cities, on those of step 0's cities ("old cities") and of the later
 * ones ("new cities"), then the
 * mIoU on each domain step's cities (`x` for steps not reached yet). Numbers
 * are fractions printed as Python prints floats, like `metrics.csv`.
 *
 * @module
 */
import type { StepMetrics } from "../types.ts";
import { pythonFloat } from "./csv.ts";

/** What a domain step's metrics add (see `DomainStepMetrics` in `../evaluate.ts`). */
interface DomainNumbers {
  readonly domainMiou?: readonly (number | null)[];
}

const number = (v: number | null | undefined) => (v == null ? "nan" : pythonFloat(v));

/** The text of `domains.csv` for the steps so far of a task with `cities[t]` per step. */
export const domainCsv = (
  metrics: readonly StepMetrics[],
  cities: readonly (readonly string[])[],
): string => {
  const header = [
    "domain step",
    "cities",
    "mIoU",
    "mIoU old cities (step 0)",
    "mIoU new cities (steps 1..t)",
    ...cities.map((_, g) => `mIoU step-${g} cities`),
  ].join(",");
  const rows = metrics.map((m) => {
    const perStep = (m as StepMetrics & DomainNumbers).domainMiou ?? [];
    return [
      String(m.step),
      (cities[m.step] ?? []).join(";"),
      number(m.miouAll),
      number(m.miouOld),
      number(m.miouNew),
      ...cities.map((_, g) => (g < perStep.length ? number(perStep[g]) : "x")),
    ].join(",");
  });
  return [header, ...rows].map((line) => line + "\n").join("");
};
