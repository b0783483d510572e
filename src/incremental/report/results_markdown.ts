/**
 * The markdown results table rendered from result records (`results.ts`):
 * per task and setting, one line per row label (in the given order, rows
 * without a run marked "not run") with the mean ± std over seeds of the
 * last step's old/new/all mIoU, the average over steps, the minutes per run
 * and, where runs have them, the large-test columns; seeds without a run are
 * listed as missing. A joint run's one step is its last step. A domain-incremental
 * section (setting `domain`: old = the first step's cities, new = later ones)
 * also shows the first cities' mIoU after step 0 and how much of it the last
 * step lost (forgetting).
 *
 * @module
 */
import { perClassLines } from "./per_class_markdown.ts";
import type { ResultRun } from "./results.ts";

/** Mean and sample standard deviation (0 for one value); undefined for none. */
export const meanStd = (
  values: readonly number[],
): { readonly mean: number; readonly std: number } | undefined => {
  if (values.length === 0) return undefined;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.length > 1
    ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1)
    : 0;
  return { mean, std: Math.sqrt(variance) };
};

/**
 * `mean ± std` with one decimal over the values that are present; a single
 * value has no spread to show; "–" when none is.
 */
export const meanStdCell = (values: readonly (number | null | undefined)[]): string => {
  const present = values.filter((v): v is number => typeof v === "number");
  const stats = meanStd(present);
  if (stats === undefined) return "–";
  return present.length > 1
    ? `${stats.mean.toFixed(1)} ± ${stats.std.toFixed(1)}`
    : stats.mean.toFixed(1);
};

/** What the markdown is made of besides the records. */
export interface ResultsMarkdownOptions {
  /** The first heading, e.g. `Results on the synthetic benchmark`. */
  readonly title: string;
  /** The paragraph under it (how the table was made, what the columns are). */
  readonly intro: string;
  /** The row labels in table order; rows of the records not listed follow them. */
  readonly rows: readonly string[];
  /** Tasks shown first, in this order, even without runs; others follow as found. */
  readonly tasks?: readonly string[];
  /** Seeds every row should have; each row's own seeds are added. */
  readonly seeds?: readonly number[];
  /** The setting of a listed task without runs (default `overlap`). */
  readonly setting?: string;
  /** The dataset's name in each section heading (e.g. `synthetic`). */
  readonly dataset?: string;
  /** What the runs were evaluated on, named in each section heading (e.g. `test split`). */
  readonly split?: string;
  /** Markdown appended after the tables (the notes file). */
  readonly notes?: string;
  /**
   * The classes each step of a task introduces (step 0 first); where given,
   * a class-incremental section adds the per-class table of its runs.
   */
  readonly classSteps?: (task: string) => readonly (readonly number[])[] | undefined;
}

const SETTING_WORDS: Readonly<Record<string, string>> = {
  overlap: "overlapped",
  disjoint: "disjoint",
  domain: "domain-incremental",
};

/** The setting whose steps change cities, not classes. */
const DOMAIN = "domain";

/** The (task, setting) sections in display order. */
const sections = (runs: readonly ResultRun[], options: ResultsMarkdownOptions) => {
  const out: { task: string; setting: string }[] = [];
  const add = (task: string, setting: string) => {
    if (!out.some((s) => s.task === task && s.setting === setting)) out.push({ task, setting });
  };
  for (const task of options.tasks ?? []) {
    const found = runs.filter((r) => r.task === task);
    if (found.length === 0) add(task, options.setting ?? "overlap");
    for (const r of found) add(r.task, r.setting);
  }
  for (const r of runs) add(r.task, r.setting);
  return out;
};

const last = (run: ResultRun) => run.steps[run.steps.length - 1];

/** The first step's mIoU lost by the end: old after step 0 minus old after the last step. */
const forgotten = (run: ResultRun): number | null => {
  const [first, end] = [run.steps[0].old, last(run).old];
  return first === null || end === null ? null : first - end;
};

/** One table line for a row's runs (`expected`: the seeds the section should have). */
const rowLine = (
  label: string,
  runs: readonly ResultRun[],
  expected: readonly number[],
  large: boolean,
  domain: boolean,
): string => {
  if (runs.length === 0) return `| ${label} | not run |${" |".repeat(domain ? 7 : 5)}`;
  const have = new Set(runs.map((r) => r.seed));
  const missing = expected.filter((s) => !have.has(s));
  const seeds = missing.length > 0
    ? `${runs.length} (missing ${missing.join(", ")})`
    : `${runs.length}`;
  const forgetting = domain
    ? [
      meanStdCell(runs.map((r) => r.steps[0].old)),
      meanStdCell(runs.map((r) => forgotten(r))),
    ]
    : [];
  const cells = [
    ...forgetting,
    meanStdCell(runs.map((r) => last(r).old)),
    meanStdCell(runs.map((r) => last(r).new)),
    meanStdCell(runs.map((r) => last(r).all)),
    meanStdCell(runs.map((r) => r.avg)),
    meanStd(runs.map((r) => r.minutes))!.mean.toFixed(1),
  ];
  if (large) {
    const withLarge = runs.flatMap((r) => r.large ? [r.large] : []);
    cells.push(
      meanStdCell(withLarge.map((l) => l.old)),
      meanStdCell(withLarge.map((l) => l.new)),
      meanStdCell(withLarge.map((l) => l.all)),
    );
  }
  return `| ${label} | ${seeds} | ${cells.join(" | ")} |`;
};

/** One section: the heading and the table of a task and setting. */
const sectionLines = (
  runs: readonly ResultRun[],
  task: string,
  setting: string,
  options: ResultsMarkdownOptions,
): string[] => {
  const mine = runs.filter((r) => r.task === task && r.setting === setting);
  const seeds = [...new Set([...(options.seeds ?? []), ...mine.map((r) => r.seed)])]
    .sort((a, b) => a - b);
  const largeRun = mine.find((r) => r.large)?.large;
  const large = largeRun
    ? ` old, ${largeRun.images} | new, ${largeRun.images} | ` +
      `all, ${largeRun.images} |`
    : "";
  const where = [options.dataset, task, SETTING_WORDS[setting] ?? setting].filter(Boolean);
  const about = [
    `seeds ${seeds.join(", ")}`,
    ...(options.split ? [options.split] : []),
    "mIoU %",
  ];
  const rows = [...options.rows];
  for (const r of mine) if (!rows.includes(r.row)) rows.push(r.row);
  const domain = setting === DOMAIN;
  const head = domain
    ? "| method | seeds | old after step 0 | forgotten | old | new | all | avg over steps | " +
      "minutes per run |"
    : "| method | seeds | old | new | all | avg over steps | minutes per run |";
  const columns = (domain ? 9 : 7) + (largeRun ? 3 : 0);
  return [
    `## ${where.join(" ")} (${about.join("; ")})`,
    "",
    `${head}${large}`,
    `|${" --- |".repeat(columns)}`,
    ...rows.map((label) =>
      rowLine(label, mine.filter((r) => r.row === label), seeds, largeRun !== undefined, domain)
    ),
    ...perClassSection(mine, rows, domain ? undefined : options.classSteps?.(task)),
  ];
};

/** The per-class table after a blank line, or nothing without the task's steps. */
const perClassSection = (
  runs: readonly ResultRun[],
  rows: readonly string[],
  steps: readonly (readonly number[])[] | undefined,
): string[] => {
  const lines = steps ? perClassLines(runs, rows, steps) : [];
  return lines.length > 0 ? ["", ...lines] : [];
};

/** The markdown text: title, intro, a table per task and setting, then the notes. */
export const resultsMarkdown = (
  runs: readonly ResultRun[],
  options: ResultsMarkdownOptions,
): string => {
  const text = [
    `# ${options.title}`,
    "",
    options.intro,
    "",
    ...sections(runs, options).flatMap(({ task, setting }) => [
      ...sectionLines(runs, task, setting, options),
      "",
    ]),
  ].join("\n");
  return options.notes ? `${text}\n${options.notes}` : text;
};
