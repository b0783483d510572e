/**
 * PLOP's per-step results CSV, byte for byte: `run.py` appends, after each
 * step, `f"{step},{classes_iou},{val_score['Mean IoU']}\n"` where
 * `classes_iou` joins `str(iou)` for class indices 0..K-1, with `x` for a
 * class not seen yet and `X` for a seen class without ground truth (its
 * `StreamSegMetrics` marks those "X"). There is no header row: PLOP's
 * `average_csv.py` reads every line as numbers, so `plopCsv` writes none by
 * default; `{ header: true }` adds `step,0,1,...,K-1,mIoU` for spreadsheets.
 * Numbers are IoU fractions in [0, 1] printed as Python's `repr` prints a
 * float (`1.0`, `0.625`, `1e-05`), a step without any mIoU as `nan`.
 *
 * @module
 */
import type { StepMetrics } from "../types.ts";

/** A number as Python's `str(float)` writes it (shortest round-trip digits). */
export const pythonFloat = (v: number): string => {
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  if (Number.isInteger(v) && Math.abs(v) < 1e16) {
    return (Object.is(v, -0) ? "-" : "") + v.toFixed(1);
  }
  const [mantissa, exponentText] = v.toExponential().split("e");
  const exponent = Number(exponentText);
  // Python switches to scientific notation below 1e-4 and from 1e16 on.
  if (exponent >= -4 && exponent < 16) return String(v);
  const sign = exponent < 0 ? "-" : "+";
  return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
};

/** One step's CSV row (without the newline). */
export const plopCsvRow = (m: StepMetrics, totalClasses: number): string => {
  const seen = new Set(m.seenClasses);
  const cells = Array.from({ length: totalClasses }, (_, c) => {
    if (!seen.has(c)) return "x";
    const iou = m.iou[c];
    return iou == null ? "X" : pythonFloat(iou);
  });
  return [String(m.step), ...cells, pythonFloat(m.miouAll ?? NaN)].join(",");
};

/** The CSV text of the steps so far, one line per step. */
export const plopCsv = (
  metrics: readonly StepMetrics[],
  totalClasses: number,
  options: { readonly header?: boolean } = {},
): string => {
  const lines = metrics.map((m) => plopCsvRow(m, totalClasses));
  if (options.header) {
    lines.unshift(["step", ...Array.from({ length: totalClasses }, (_, c) => c), "mIoU"].join(","));
  }
  return lines.map((line) => line + "\n").join("");
};
