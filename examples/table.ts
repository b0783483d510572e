/**
 * The results table: runs every method (and GSC's ablations) on the
 * synthetic overlapped tasks over several seeds, each run a `gsc train`
 * process of its own (resumable: a finished run is read back, an
 * interrupted one continues), and writes `results/synthetic.md` with
 * old/new/all mIoU after the last step and the average over steps as
 * mean ± std, the command and the time it took.
 *
 *   deno task table [--tasks 15-1,10-1] [--seeds 0,1,2] [--rows ft,mib,...]
 *                   [--out results/synthetic.md] [--existing] [-- extra train options]
 *
 * `--existing` trains nothing: it tabulates the finished runs and lists the missing ones.
 * `--large-test N` also evaluates each run's last step on N synthetic test images (a superset
 * of the standard 150, written to `data/synthetic-voc-test<N>` when missing) and adds their
 * old/new/all columns: 150 images leave a split noise of the order of the methods' differences.
 *
 * Step 0 is plain cross-entropy for every method, so it is trained once per
 * task and seed (in the FT run) and every other row loads it with `--step0`,
 * as the research codes share one base model between methods. The text of
 * `results/synthetic-notes.md`, when present, is appended to the table.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** A row of the table: a label and the train options that make it. */
interface Row {
  readonly label: string;
  readonly args: readonly string[];
}

const ALL_ROWS: readonly Row[] = [
  { label: "FT", args: ["--method", "ft"] },
  { label: "LwF", args: ["--method", "lwf"] },
  { label: "ILT", args: ["--method", "ilt"] },
  { label: "MiB", args: ["--method", "mib"] },
  { label: "PLOP", args: ["--method", "plop"] },
  { label: "GSC", args: ["--method", "gsc"] },
  { label: "GSC w/o SGC", args: ["--method", "gsc", "--no-sgc"] },
  { label: "GSC w/o SSRD", args: ["--method", "gsc", "--no-ssrd"] },
  { label: "GSC w/o PPR", args: ["--method", "gsc", "--no-ppr"] },
];

/** The final numbers of one run, from its `summary.json`. */
interface RunResult {
  readonly old: number;
  readonly new: number;
  readonly all: number;
  readonly avg: number;
  readonly seconds: number;
  /** Last step's mIoU on the large test split, when asked for. */
  readonly large?: { readonly old: number; readonly new: number; readonly all: number };
}

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

/** Runs a `gsc` command (`src/cli/main.ts`) and fails with its exit code. */
const gsc = async (args: readonly string[], what: string) => {
  const status = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "src/cli/main.ts", ...args],
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  if (!status.success) throw new Error(`${what} failed (exit ${status.code})`);
};

/** The large test split: its data root and list name, written when missing. */
const largeTestSplit = async (images: number) => {
  const root = `data/synthetic-voc-test${images}`;
  const split = `test${images}`;
  const list = `${root}/ImageSets/Segmentation/${split}.txt`;
  if (!await exists(list)) {
    // Images are a function of (seed, stream, index): the first 150 are the standard test set.
    await gsc(["synth", "--out", root, "--test", String(images)], `writing ${root}`);
    await Deno.copyFile(`${root}/ImageSets/Segmentation/test.txt`, list);
  }
  return { root, split };
};

/** The last step's metrics on the large test split, evaluated once and kept in the run. */
const largeTestMetrics = async (
  out: string,
  step: number,
  test: { root: string; split: string },
) => {
  const file = `${out}/eval-step-${step}-${test.split}.json`;
  if (!await exists(file)) {
    console.log(`[table] evaluating ${out} step ${step} on ${test.split}`);
    await gsc(
      [
        "eval",
        "--run",
        out,
        "--step",
        String(step),
        "--data-root",
        test.root,
        "--split",
        test.split,
      ],
      `evaluating ${out}`,
    );
  }
  const m = JSON.parse(await Deno.readTextFile(file));
  return { old: m.miouOld, new: m.miouNew, all: m.miouAll };
};

const slug = (label: string) => label.toLowerCase().replace(/[^a-z0-9]+/g, "-");

/** The row whose run trains the step 0 that the other rows share. */
const BASE_ROW = ALL_ROWS[0];

const runDir = (task: string, row: Row, seed: number) =>
  `runs/table/${task}/${slug(row.label)}/seed-${seed}`;

const meanStd = (values: readonly number[]) => {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.length > 1
    ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1)
    : 0;
  return { mean, std: Math.sqrt(variance) };
};

/** mean ± std in percent; a single seed has no spread to show. */
const cell = (values: readonly number[]) => {
  const { mean, std } = meanStd(values.map((v) => v * 100));
  return values.length > 1 ? `${mean.toFixed(1)} ± ${std.toFixed(1)}` : mean.toFixed(1);
};

/** Runs (or reads back) one training run; undefined when `existing` and it is not finished. */
const runOne = async (
  task: string,
  row: Row,
  seed: number,
  extra: readonly string[],
  existing: boolean,
  largeTest?: { root: string; split: string },
): Promise<RunResult | undefined> => {
  const out = runDir(task, row, seed);
  const summaryFile = `${out}/summary.json`;
  const done = await Deno.readTextFile(summaryFile).then(
    (text) => JSON.parse(text).complete === true,
    () => false,
  );
  if (!done && existing) return undefined;
  if (!done) {
    const resume = await exists(`${out}/checkpoints/last.safetensors`) ? ["--resume"] : [];
    let shared: string[] = [];
    if (row !== BASE_ROW) {
      const base = `${runDir(task, BASE_ROW, seed)}/checkpoints/step-0.safetensors`;
      if (!await exists(base)) await runOne(task, BASE_ROW, seed, extra, false);
      shared = ["--step0", base];
    }
    const args = [
      "train",
      "--dataset",
      "synth",
      "--task",
      task,
      "--overlap",
      "--seed",
      String(seed),
      "--out",
      out,
      "--quiet",
      ...row.args,
      ...shared,
      ...resume,
      ...extra,
    ];
    console.log(`[table] ${task} ${row.label} seed ${seed}`);
    await gsc(args, `run ${out}`);
  }
  const summary = JSON.parse(await Deno.readTextFile(summaryFile));
  return {
    old: summary.final.miouOld,
    new: summary.final.miouNew,
    all: summary.final.miouAll,
    avg: summary.average,
    seconds: summary.seconds,
    large: largeTest ? await largeTestMetrics(out, summary.final.step, largeTest) : undefined,
  } satisfies RunResult;
};

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: {
      tasks: { type: "string", default: "15-1,10-1" },
      seeds: { type: "string", default: "0,1,2" },
      rows: { type: "string" },
      out: { type: "string", default: "results/synthetic.md" },
      existing: { type: "boolean", default: false },
      "large-test": { type: "string" },
    },
    allowPositionals: true,
  });
  const tasks = values.tasks.split(",");
  const seeds = values.seeds.split(",").map(Number);
  const wanted = values.rows?.split(",").map((r) => r.toLowerCase());
  const rows = wanted ? ALL_ROWS.filter((r) => wanted.includes(slug(r.label))) : ALL_ROWS;
  const largeImages = values["large-test"] === undefined ? undefined : Number(values["large-test"]);
  if (largeImages !== undefined && !(Number.isInteger(largeImages) && largeImages > 150)) {
    throw new Error(
      `--large-test: expected a number of test images above 150, got '${values["large-test"]}'`,
    );
  }
  const largeTest = largeImages === undefined ? undefined : await largeTestSplit(largeImages);
  const largeHeader = largeTest
    ? ` old, ${largeImages} | new, ${largeImages} | all, ${largeImages} |`
    : "";
  const started = performance.now();
  const sections: string[] = [];
  for (const task of tasks) {
    const lines = [
      `## synthetic ${task} overlapped (seeds ${seeds.join(", ")}; test split; mIoU %)`,
      "",
      `| method | seeds | old | new | all | avg over steps | minutes per run |${largeHeader}`,
      `| --- | --- | --- | --- | --- | --- | --- |${largeTest ? " --- | --- | --- |" : ""}`,
    ];
    for (const row of rows) {
      const results: RunResult[] = [];
      const missing: number[] = [];
      for (const seed of seeds) {
        const result = await runOne(task, row, seed, positionals, values.existing, largeTest);
        if (result) results.push(result);
        else missing.push(seed);
      }
      if (results.length === 0) {
        lines.push(`| ${row.label} | not run | | | | | |`);
        continue;
      }
      const minutes = meanStd(results.map((r) => r.seconds / 60)).mean.toFixed(1);
      const seedText = missing.length > 0
        ? `${results.length} (missing ${missing.join(", ")})`
        : `${results.length}`;
      const cells = [results.map((r) => r.old), results.map((r) => r.new)]
        .concat([results.map((r) => r.all), results.map((r) => r.avg)])
        .map(cell);
      const large = results.flatMap((r) => r.large ? [r.large] : []);
      const largeCells = large.length === 0
        ? ""
        : ` ${
          [large.map((r) => r.old), large.map((r) => r.new), large.map((r) => r.all)].map(cell)
            .join(" | ")
        } |`;
      lines.push(`| ${row.label} | ${seedText} | ${cells.join(" | ")} | ${minutes} |${largeCells}`);
    }
    sections.push(lines.join("\n"));
  }
  const minutes = ((performance.now() - started) / 60000).toFixed(1);
  const command = ["deno task table", ...Deno.args].join(" ");
  const text = [
    "# Results on the synthetic benchmark",
    "",
    `Command: \`${command}\` (${minutes} min in this invocation; runs already finished are read ` +
    "back from `runs/table/`). Each cell is mean ± std over seeds of the mIoU after the last step " +
    "(old = step-0 classes with background, new = classes of later steps, all = every class) " +
    "and the average of the all-class mIoU over steps. Step 0 is trained once per task and seed " +
    "(in the FT run) and loaded by every other row (`--step0`), so their minutes exclude it." +
    (largeTest
      ? ` The last columns are the last step's mIoU on ${largeImages} test images ` +
        "(`--large-test`; the standard 150 and more from the same stream)."
      : ""),
    "",
    ...sections.flatMap((s) => [s, ""]),
  ].join("\n");
  const notes = await Deno.readTextFile("results/synthetic-notes.md").catch(() => "");
  await Deno.mkdir(values.out.split("/").slice(0, -1).join("/") || ".", { recursive: true });
  await Deno.writeTextFile(values.out, notes ? `${text}\n${notes}` : text);
  console.log(text);
}
