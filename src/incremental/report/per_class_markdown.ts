/**
 * The per-class table of a results section: each class's IoU after the last
 * step, the mean over seeds per row label, with the step that introduced the
 * class. Where two methods tie on mIoU it shows which classes each keeps and
 * which it loses (a look-alike old class taken over by a new one, say).
 *
 * @module
 */
import type { ResultRun } from "./results.ts";

/** The mean over the values present, one decimal; "–" when none is. */
const meanCell = (values: readonly (number | null | undefined)[]): string => {
  const present = values.filter((v): v is number => typeof v === "number");
  if (present.length === 0) return "–";
  return (present.reduce((a, b) => a + b, 0) / present.length).toFixed(1);
};

/**
 * The lines of the per-class table of one section: `runs` are the section's,
 * `rows` the row labels in order (those without a run left out), `steps` the
 * classes each step introduces (step 0 first).
 */
export const perClassLines = (
  runs: readonly ResultRun[],
  rows: readonly string[],
  steps: readonly (readonly number[])[],
): string[] => {
  const shown = rows.filter((label) => runs.some((r) => r.row === label));
  if (shown.length === 0) return [];
  const classes = steps.flatMap((introduced, step) => introduced.map((c) => ({ c, step })))
    .sort((a, b) => a.c - b.c);
  return [
    "Per class after the last step (IoU %, mean over seeds; step: the one that introduced it):",
    "",
    `| class | step | ${shown.join(" | ")} |`,
    `|${" --- |".repeat(shown.length + 2)}`,
    ...classes.map(({ c, step }) => {
      const cells = shown.map((label) =>
        meanCell(runs.filter((r) => r.row === label).map((r) => r.perClass[c]))
      );
      return `| ${c} | ${step} | ${cells.join(" | ")} |`;
    }),
  ];
};
