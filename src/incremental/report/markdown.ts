/**
 * `report.md`: the run summary (command, adapter, time, configuration
 * table), the per-step table (classes added, old / new / all mIoU, pixel
 * accuracy, seconds), the average over steps, the final per-class IoU with
 * class names (and, given the last step's confusions, each class's recall and
 * the class that took most of the rest of its pixels), and links to
 * `miou.svg` and the prediction strips.
 *
 * @module
 */
import type { RunConfig, StepMetrics } from "../types.ts";
import type { ClassConfusion } from "../confusion_report.ts";

/** What the report is made from. */
export interface ReportInput {
  readonly config: RunConfig;
  /** The command line that started the run. */
  readonly command?: string;
  /** The adapter's one-line description. */
  readonly adapter?: string;
  /** When the report was written (ISO text); left out when absent. */
  readonly writtenAt?: string;
  /** Metrics of the finished steps, in order. */
  readonly metrics: readonly StepMetrics[];
  /** Seconds of each finished step (same order as `metrics`). */
  readonly stepSeconds: readonly number[];
  /** Name of every class index. */
  readonly classNames: readonly string[];
  /** Classes of every step of the task. */
  readonly steps: readonly (readonly number[])[];
  /** Domain-incremental tasks: the cities of every step (the table then lists domain steps). */
  readonly domains?: readonly (readonly string[])[];
  /** Where the last step's classes' pixels went (`classConfusions`; the report shows the first taker). */
  readonly confusion?: readonly ClassConfusion[];
}

/** A fraction as a percentage with one decimal; "–" for null. */
export const percent = (v: number | null | undefined): string =>
  v == null ? "–" : (v * 100).toFixed(1);

/** Classes as "a–b" when they are a contiguous run of 3 or more, else listed. */
export const classList = (classes: readonly number[]): string => {
  const sorted = [...classes].sort((a, b) => a - b);
  const contiguous = sorted.every((c, i) => i === 0 || c === sorted[i - 1] + 1);
  return contiguous && sorted.length >= 3
    ? `${sorted[0]}–${sorted[sorted.length - 1]}`
    : sorted.join(", ");
};

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

const configRows = (config: RunConfig): string[] =>
  Object.entries(config).flatMap(([key, value]) =>
    value !== null && typeof value === "object"
      ? Object.entries(value).map(([k, v]) => `| ${key}.${k} | ${cell(String(v))} |`)
      : [`| ${key} | ${cell(String(value))} |`]
  );

const average = (values: readonly (number | null)[]) => {
  const present = values.filter((v): v is number => v !== null);
  return present.length ? present.reduce((a, b) => a + b, 0) / present.length : null;
};

/** What a joint run's old and new columns mean (empty for other methods). */
const jointNote = (config: RunConfig, metrics: readonly StepMetrics[]) => {
  const m = metrics[0];
  if (config.method !== "joint" || m === undefined) return "";
  return ` Joint training: every class in one step (the step-0 recipe, on every training ` +
    `image); old = the task's first step (${classList(m.oldClasses)}), new = its later steps ` +
    `(${classList(m.newClasses)}).`;
};

/** The per-step table of a domain-incremental run: cities instead of classes. */
const domainTable = (input: ReportInput, total: number): string[] => {
  const domains = input.domains ?? [];
  const lines = [
    `Domain steps finished: ${input.metrics.length} of ${domains.length}; time ` +
    `${total.toFixed(1)} s. All ${input.classNames.length} classes at every step; evaluated ` +
    `after each step on RCIL's test images of every city seen so far (mIoU and accuracy in ` +
    `percent; "step-0 cities" = the test images of the first step's cities, "later cities" = ` +
    `those of steps 1..t).`,
    "",
    "| domain step | cities | step-0 cities mIoU | later cities mIoU | all mIoU | pixel acc. | " +
    "seconds |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  input.metrics.forEach((m, i) => {
    lines.push(
      `| ${m.step} | ${cell((domains[m.step] ?? []).join(", "))} | ${percent(m.miouOld)} | ` +
        `${percent(m.miouNew)} | ${percent(m.miouAll)} | ${percent(m.pixelAccuracy)} | ` +
        `${(input.stepSeconds[i] ?? 0).toFixed(1)} |`,
    );
  });
  return lines;
};

/** The report's markdown text. */
export const reportMarkdown = (input: ReportInput): string => {
  const { config, metrics } = input;
  const total = input.stepSeconds.reduce((a, b) => a + b, 0);
  const setting = input.domains
    ? "domain-incremental"
    : config.method === "joint"
    ? "every class in one step"
    : config.overlap
    ? "overlapped"
    : "disjoint";
  const lines: string[] = [
    `# ${config.method.toUpperCase()} on ${config.dataset} ${config.task} (${setting})`,
    "",
  ];
  if (input.command) lines.push(`Command: \`${input.command}\``, "");
  if (input.adapter) lines.push(`Adapter: ${input.adapter}`, "");
  if (input.writtenAt) lines.push(`Written: ${input.writtenAt}`, "");
  if (input.domains) {
    lines.push(...domainTable(input, total));
  } else {
    lines.push(
      `Steps finished: ${metrics.length} of ${input.steps.length}; time ${total.toFixed(1)} s. ` +
        `Evaluated on the \`${config.evalSplit}\` split; mIoU and accuracy in percent.` +
        jointNote(config, metrics),
      "",
      "| step | classes added | old mIoU | new mIoU | all mIoU | pixel acc. | seconds |",
      "| --- | --- | --- | --- | --- | --- | --- |",
    );
  }
  if (!input.domains) {
    metrics.forEach((m, i) => {
      lines.push(
        `| ${m.step} | ${classList(input.steps[m.step] ?? [])} | ${percent(m.miouOld)} | ` +
          `${percent(m.miouNew)} | ${percent(m.miouAll)} | ${percent(m.pixelAccuracy)} | ` +
          `${(input.stepSeconds[i] ?? 0).toFixed(1)} |`,
      );
    });
  }
  lines.push(
    "",
    `Average of the all-class mIoU over steps (avg): ${
      percent(average(metrics.map((m) => m.miouAll)))
    }`,
    "",
  );
  const last = metrics[metrics.length - 1];
  if (last) {
    const name = (c: number) => cell(input.classNames[c] ?? "");
    const confusion = input.confusion && new Map(input.confusion.map((c) => [c.label, c]));
    // Recall, and the class that took the largest share of the rest of the class's pixels.
    const where = (c: number) => {
      const found = confusion?.get(c);
      const taker = found?.taken[0];
      const took = taker ? `${taker.as} ${name(taker.as)} (${percent(taker.share)})` : "–";
      return ` ${percent(found?.correct)} | ${took} |`;
    };
    lines.push(
      `## Per-class IoU after step ${last.step}`,
      "",
      confusion
        ? "| class | name | IoU | recall | most of the rest predicted as |"
        : "| class | name | IoU |",
      confusion ? "| --- | --- | --- | --- | --- |" : "| --- | --- | --- |",
      ...last.seenClasses.map((c) =>
        `| ${c} | ${name(c)} | ${percent(last.iou[c])} |${confusion ? where(c) : ""}`
      ),
      "",
    );
  }
  lines.push(
    "## Plot and prediction strips",
    "",
    "![mIoU over steps](miou.svg)",
    "",
    "Strips (image | ground truth | prediction): " +
      metrics.map((m) => `[step ${m.step}](strips/step-${m.step}.png)`).join(", "),
    "",
    "## Configuration",
    "",
    "| option | value |",
    "| --- | --- |",
    ...configRows(config),
    "",
  );
  return lines.join("\n");
};
