/**
 * The results tables: runs every row of a benchmark (`examples/table_benchmarks.ts`)
 * on its tasks over several seeds, each run a `gsc train` process of its own
 * (resumable: a finished run is read back, an interrupted one continues), and
 * keeps the results as data: one record per finished run in the json beside
 * the markdown (`{"runs": [...]}`: task, setting, row, seed, old/new/all mIoU
 * per step, avg, per-class IoU, minutes, commit, command), merged with the
 * records already there by task, setting, row and seed, written after every
 * run. The markdown is rendered from the json: mean ± std over seeds of the
 * last step's old/new/all mIoU and the average over steps, then the notes.
 *
 *   deno task table [--benchmark class|domain] [--tasks 15-1,10-1] [--seeds 0,1,2]
 *                   [--rows joint,ft,mib,...] [--out results/synthetic.md] [--existing]
 *                   [--render] [-- extra train options]
 *
 * `--benchmark class` (the default): the synthetic class-incremental benchmark,
 * `results/synthetic.*`; `--benchmark domain`: the synthetic domain-incremental
 * one (Cityscapes layout, 11-5 and 11-1), `results/synthetic-domain.*`.
 * `--existing` trains nothing: it tabulates the finished runs and lists the missing ones.
 * A row recorded in the json whose run folder is gone (a fresh clone, another
 * machine) is not trained again; where a later row needs its step 0, it loads
 * the copy the table stored beside the json when the FT run finished
 * (`results/synthetic-step0/`), and only without one is the FT run trained again.
 * `--render` reads nothing but the json: it only renders the markdown again.
 * `--large-test N` (class benchmark) also evaluates each run's last step on N synthetic test
 * images (a superset of the standard 150, written to `data/synthetic-voc-test<N>` when
 * missing) and adds their old/new/all columns.
 *
 * Step 0 is plain cross-entropy for every method, so it is trained once per
 * first step and seed (in an FT run: 15-5 and 15-1 share it, as 11-5 and 11-1
 * do) and every other incremental run loads it with `--step0`, as the research
 * codes share one base model between methods. Joint trains every class of the
 * task in one step with the step-0 recipe on every training image; its
 * old/new columns split the classes by the task's first step. Tasks with the
 * same classes (the synthetic 19-1, 15-5, 15-1, 10-1) train the same joint
 * model, so a finished joint run of one is read for the others, split anew.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  firstStepKey,
  mergeRuns,
  parseResults,
  parseStepJson,
  resplitJointRecord,
  resplitMetrics,
  resultKey,
  type ResultRun,
  resultsJson,
  resultsMarkdown,
  runRecord,
  taskClassesOf,
  taskStepsOf,
} from "../mod.ts";
import { type Benchmark, BENCHMARKS, type Row } from "./table_benchmarks.ts";

/** The upper-bound row: one step over every class, shared by tasks with the same classes. */
const JOINT_LABEL = "Joint";

/** Rows that train on their own: no shared step 0 (Joint has none). */
const OWN_STEP0 = new Set([JOINT_LABEL]);

/** The row whose run trains the step 0 that the other incremental rows share. */
const BASE_LABEL = "FT";

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

/** `git rev-parse --short HEAD`, or `unknown` outside a repository. */
const headCommit = async () => {
  const output = await new Deno.Command("git", {
    args: ["rev-parse", "--short", "HEAD"],
    stdout: "piped",
    stderr: "null",
  }).output().catch(() => undefined);
  return output?.success ? new TextDecoder().decode(output.stdout).trim() : "unknown";
};

/** The large test split: its data root and list name, written when missing. */
const largeTestSplit = async (images: number) => {
  const root = `data/synthetic-voc-test${images}`;
  const split = `test${images}`;
  const list = `${root}/ImageSets/Segmentation/${split}.txt`;
  if (!await exists(list)) {
    // Images are a function of (seed, stream, index): the first 150 are the standard test set.
    // Only the test stream is read: one training image and no val images keep the write short.
    await gsc(
      ["synth", "--out", root, "--train", "1", "--val", "0", "--test", String(images)],
      `writing ${root}`,
    );
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
  return { split: test.split, metrics: parseStepJson(await Deno.readTextFile(file)) };
};

const slug = (label: string) => label.toLowerCase().replace(/[^a-z0-9]+/g, "-");

/** The class benchmark's runs keep their original folders; the domain's go under `domain/`. */
const benchmarkRuns = (benchmark: Benchmark) =>
  benchmark.name === "class" ? "runs/table" : `runs/table/${benchmark.name}`;

const runDir = (benchmark: Benchmark, task: string, row: Row, seed: number) =>
  `${benchmarkRuns(benchmark)}/${task}/${slug(row.label)}/seed-${seed}`;

/** What one invocation shares between its runs. */
export interface Invocation {
  readonly benchmark: Benchmark;
  /** The tasks of this invocation: the first places to look for a shared step 0. */
  readonly tasks: readonly string[];
  readonly extra: readonly string[];
  readonly existing: boolean;
  readonly largeTest?: { root: string; split: string };
  /** HEAD when the invocation started: the commit of a finished run read back without one. */
  readonly commit: string;
  /** HEAD when this invocation launched a run, by run folder: that run's commit. */
  readonly launched: Map<string, string>;
  /** Keeps a finished run's record (the shared FT run when another row trained it first). */
  readonly keep: (record: ResultRun) => Promise<void>;
  /**
   * The json's records when the invocation started, by {@link resultKey}: a row
   * recorded there is not trained again when its run folder is gone (a fresh
   * clone, another machine).
   */
  readonly recorded: ReadonlyMap<string, ResultRun>;
}

/** The run's record from its files: every step's metrics, its time, command and commit. */
const readRecord = async (
  task: string,
  row: Row,
  seed: number,
  invocation: Invocation,
  source: { task: string; oldClasses: readonly number[] } | undefined = undefined,
): Promise<ResultRun> => {
  const out = runDir(invocation.benchmark, source?.task ?? task, row, seed);
  const summary = JSON.parse(await Deno.readTextFile(`${out}/summary.json`));
  const config = JSON.parse(await Deno.readTextFile(`${out}/config.json`));
  const metrics = [];
  for (let t = 0; t < summary.steps; t++) {
    const step = parseStepJson(await Deno.readTextFile(`${out}/step-${t}.json`));
    metrics.push(source ? resplitMetrics(step, source.oldClasses) : step);
  }
  const last = metrics[metrics.length - 1].step;
  // The command that started the run; a resumed run's config records it with --resume.
  const command = String(config.command ?? "").split(" ").filter((w) => w !== "--resume")
    .join(" ");
  return runRecord({
    task,
    setting: invocation.benchmark.setting,
    row: row.label,
    seed,
    metrics,
    seconds: summary.seconds,
    commit: typeof config.commit === "string"
      ? config.commit
      : invocation.launched.get(out) ?? invocation.commit,
    command,
    ...(invocation.largeTest
      ? { large: resplitLarge(await largeTestMetrics(out, last, invocation.largeTest), source) }
      : {}),
  });
};

/** The large-test metrics of a joint run read for another task, split by that task's first step. */
const resplitLarge = (
  large: { split: string; metrics: ReturnType<typeof parseStepJson> },
  source: { oldClasses: readonly number[] } | undefined,
) => source ? { ...large, metrics: resplitMetrics(large.metrics, source.oldClasses) } : large;

/** The tasks that have run folders of the benchmark (e.g. `15-1` for `runs/table/15-1/`). */
const taskFolders = async (benchmark: Benchmark): Promise<string[]> => {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(benchmarkRuns(benchmark))) {
      if (entry.isDirectory && /^\d+-\d+$/.test(entry.name)) names.push(entry.name);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names.sort();
};

/**
 * The finished step 0 this run loads: the FT run's of a task with the same
 * first step (this invocation's tasks first, then any other run folder of the
 * benchmark), trained (as this task's FT run) when none is finished;
 * undefined for the FT run that trains it.
 */
export const sharedStep0 = async (
  task: string,
  row: Row,
  seed: number,
  invocation: Invocation,
): Promise<string | undefined> => {
  const { benchmark } = invocation;
  const base = benchmark.rows.find((r) => r.label === BASE_LABEL)!;
  const key = (t: string) => firstStepKey({ dataset: benchmark.dataset, task: t }) ?? t;
  const recordedBase = [...invocation.recorded.values()]
    .filter((r) => r.row === BASE_LABEL && r.seed === seed && r.setting === benchmark.setting)
    .map((r) => r.task);
  const candidates = [task, ...invocation.tasks, ...await taskFolders(benchmark), ...recordedBase];
  const sharing = [...new Set(candidates.filter((t) => key(t) === key(task)))];
  for (const other of sharing) {
    const file = `${runDir(benchmark, other, base, seed)}/checkpoints/step-0.safetensors`;
    if (await exists(file)) return file;
  }
  // A recorded FT run whose folder is gone left its step 0 in the store.
  for (const other of sharing) {
    const recorded = invocation.recorded.has(
      resultKey({ task: other, setting: benchmark.setting, row: BASE_LABEL, seed }),
    );
    const file = storedStep0(benchmark, other, seed);
    if (recorded && await exists(file)) return file;
  }
  if (row === base) return undefined;
  // Trained again when only its record is left: its step 0 is what this row needs.
  await invocation.keep((await runOne(task, base, seed, invocation, true))!);
  return `${runDir(benchmark, task, base, seed)}/checkpoints/step-0.safetensors`;
};

/**
 * A finished joint run of another task with the same classes (a joint run
 * trains every class of its task at once, so 19-1, 15-5, 15-1 and 10-1 share
 * one model per seed), with this task's first step as its old classes: its
 * folder, or else its record in the json (`record`); undefined when none.
 */
const sharedJoint = async (task: string, row: Row, seed: number, invocation: Invocation) => {
  const { benchmark } = invocation;
  const classesOf = (t: string) =>
    JSON.stringify(taskClassesOf({ dataset: benchmark.dataset, task: t })?.map(String).toSorted());
  const first = firstStepKey({ dataset: benchmark.dataset, task });
  if (first === undefined || classesOf(task) === undefined) return undefined;
  const others = [...invocation.tasks, ...await taskFolders(benchmark)];
  for (
    const other of new Set(others.filter((t) => t !== task && classesOf(t) === classesOf(task)))
  ) {
    const summary = await Deno.readTextFile(`${runDir(benchmark, other, row, seed)}/summary.json`)
      .then((text) => JSON.parse(text), () => undefined);
    if (summary?.complete === true) {
      return { task: other, oldClasses: first.split(",").map(Number) };
    }
  }
  // No run folder: a record of one in the json (a fresh clone, another machine).
  for (const record of invocation.recorded.values()) {
    if (
      record.row === row.label && record.seed === seed && record.task !== task &&
      record.setting === benchmark.setting && classesOf(record.task) === classesOf(task)
    ) {
      return { task: record.task, oldClasses: first.split(",").map(Number), record };
    }
  }
  return undefined;
};

/**
 * Where the table keeps the step 0 of each recorded FT run, beside the json
 * (`results/synthetic-step0/15-5-seed-0.safetensors`): a later invocation
 * whose run folders are gone (a fresh clone, another machine) loads it
 * instead of training step 0 again, as long as the FT run is recorded.
 */
export const storedStep0 = (benchmark: Benchmark, task: string, seed: number) =>
  `${benchmark.out.replace(/\.md$/, "")}-step0/${task}-seed-${seed}.safetensors`;

/** Copies a finished FT run's step 0 into the store, where it differs from the stored one. */
export const storeStep0 = async (benchmark: Benchmark, record: ResultRun) => {
  if (record.row !== BASE_LABEL) return;
  const base = benchmark.rows.find((r) => r.label === BASE_LABEL)!;
  const source = `${
    runDir(benchmark, record.task, base, record.seed)
  }/checkpoints/step-0.safetensors`;
  if (!await exists(source)) return;
  const target = storedStep0(benchmark, record.task, record.seed);
  const bytes = await Deno.readFile(source);
  const stored = await Deno.readFile(target).catch(() => undefined);
  if (stored && stored.length === bytes.length && stored.every((b, i) => b === bytes[i])) return;
  await Deno.mkdir(target.split("/").slice(0, -1).join("/"), { recursive: true });
  const temporary = `${target}.${Deno.pid}.tmp`;
  await Deno.writeFile(temporary, bytes);
  await Deno.rename(temporary, target);
  console.log(`[table] step 0 of ${record.task} FT seed ${record.seed} stored in ${target}`);
};

/** The step 0 an interrupted run was started with (`--step0` in its config), if any. */
const startedStep0 = async (out: string): Promise<string | undefined> => {
  const config = JSON.parse(await Deno.readTextFile(`${out}/config.json`));
  return typeof config.step0 === "string" ? config.step0 : undefined;
};

/**
 * Runs (or reads back) one training run; undefined when `existing` and it is
 * not finished. A run recorded in the json whose folder is gone is not trained
 * again (its record is returned) unless `force` (the shared step 0 needs it).
 */
const runOne = async (
  task: string,
  row: Row,
  seed: number,
  invocation: Invocation,
  force = false,
): Promise<ResultRun | undefined> => {
  const { benchmark } = invocation;
  const out = runDir(benchmark, task, row, seed);
  const done = await Deno.readTextFile(`${out}/summary.json`).then(
    (text) => JSON.parse(text).complete === true,
    () => false,
  );
  const recorded = invocation.recorded.get(
    resultKey({ task, setting: benchmark.setting, row: row.label, seed }),
  );
  if (!done && !force && recorded && !await exists(out)) {
    console.log(
      `[table] ${benchmark.name} ${task} ${row.label} seed ${seed}: recorded in the json`,
    );
    return recorded;
  }
  if (!done && row.label === JOINT_LABEL) {
    const source = await sharedJoint(task, row, seed, invocation);
    if (source) {
      console.log(
        `[table] ${benchmark.name} ${task} ${row.label} seed ${seed}: ${source.task}'s ` +
          (source.record ? "record in the json" : "run"),
      );
      return source.record
        ? resplitJointRecord(source.record, task, source.oldClasses)
        : await readRecord(task, row, seed, invocation, source);
    }
  }
  if (!done && invocation.existing) return undefined;
  if (!done) {
    const resume = await exists(`${out}/checkpoints/last.safetensors`) ? ["--resume"] : [];
    // `--resume` compares --step0 and --pretrained: a resumed run passes the step 0 it started
    // with (its config records it), a new one looks for a shared one.
    const step0 = OWN_STEP0.has(row.label)
      ? undefined
      : resume.length > 0
      ? await startedStep0(out)
      : await sharedStep0(task, row, seed, invocation);
    const args = [
      "train",
      ...benchmark.trainArgs,
      "--task",
      task,
      "--seed",
      String(seed),
      "--out",
      out,
      "--quiet",
      ...row.args,
      ...(step0 === undefined ? benchmark.ownStep0Args : ["--step0", step0]),
      ...resume,
      ...invocation.extra,
    ];
    console.log(`[table] ${benchmark.name} ${task} ${row.label} seed ${seed}`);
    invocation.launched.set(out, await headCommit());
    await gsc(args, `run ${out}`);
  }
  return await readRecord(task, row, seed, invocation);
};

/** The records already in the json, none when it does not exist yet. */
const readResults = async (path: string): Promise<ResultRun[]> => {
  const text = await Deno.readTextFile(path).catch((error) => {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  });
  return text === undefined ? [] : [...parseResults(text).runs];
};

const writeText = async (path: string, text: string) => {
  await Deno.mkdir(path.split("/").slice(0, -1).join("/") || ".", { recursive: true });
  // A temporary name of this process's own: invocations side by side never share one.
  const temporary = `${path}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(temporary, text);
  await Deno.rename(temporary, path);
};

/** Renders the markdown from the records and writes it. */
const render = async (
  benchmark: Benchmark,
  out: string,
  runs: readonly ResultRun[],
  tasks?: readonly string[],
  seeds?: readonly number[],
) => {
  const notes = await Deno.readTextFile(benchmark.notes).catch(() => "");
  const text = resultsMarkdown(runs, {
    title: benchmark.title,
    intro: benchmark.intro,
    rows: benchmark.rows.map((r) => r.label),
    tasks,
    seeds,
    setting: benchmark.setting,
    dataset: "synthetic",
    split: benchmark.split,
    notes,
    // Class steps only (a domain task's steps are cities): the per-class tables.
    classSteps: (task) => {
      const steps = taskStepsOf({ dataset: benchmark.dataset, task });
      return steps?.every((s) => s.every((c) => typeof c === "number"))
        ? steps as readonly (readonly number[])[]
        : undefined;
    },
  });
  await writeText(out, text);
  console.log(text);
};

/** The table's command line: train what is missing (or only tabulate), write json and md. */
const main = async (args: readonly string[]) => {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      benchmark: { type: "string", default: "class" },
      tasks: { type: "string" },
      seeds: { type: "string", default: "0,1,2" },
      rows: { type: "string" },
      out: { type: "string" },
      existing: { type: "boolean", default: false },
      render: { type: "boolean", default: false },
      "large-test": { type: "string" },
    },
    allowPositionals: true,
  });
  const benchmark = BENCHMARKS[values.benchmark as Benchmark["name"]];
  if (benchmark === undefined) {
    throw new Error(`--benchmark: expected class or domain, got '${values.benchmark}'`);
  }
  const out = values.out ?? benchmark.out;
  const jsonPath = `${out.replace(/\.md$/, "")}.json`;
  let runs = await readResults(jsonPath);
  if (values.render) return await render(benchmark, out, runs);
  const tasks = (values.tasks ?? benchmark.tasks).split(",");
  const seeds = values.seeds.split(",").map(Number);
  const wanted = values.rows?.split(",").map((r) => r.toLowerCase());
  const rows = wanted
    ? benchmark.rows.filter((r) => wanted.includes(slug(r.label)))
    : benchmark.rows;
  const largeImages = values["large-test"] === undefined ? undefined : Number(values["large-test"]);
  if (largeImages !== undefined && !(Number.isInteger(largeImages) && largeImages > 150)) {
    throw new Error(
      `--large-test: expected a number of test images above 150, got '${values["large-test"]}'`,
    );
  }
  if (largeImages !== undefined && benchmark.name !== "class") {
    throw new Error("--large-test: the synthetic test stream belongs to the class benchmark");
  }
  if (benchmark.data && !values.existing && !await exists(benchmark.data.marker)) {
    await gsc(["synth", ...benchmark.data.synth], "writing the benchmark's data");
  }
  const kept: ResultRun[] = [];
  const invocation: Invocation = {
    benchmark,
    tasks,
    extra: positionals,
    existing: values.existing,
    largeTest: largeImages === undefined ? undefined : await largeTestSplit(largeImages),
    commit: await headCommit(),
    launched: new Map(),
    recorded: new Map(runs.map((r) => [resultKey(r), r])),
    // Written after every run, so an interrupted invocation keeps what it finished. The file is
    // read again first and only this invocation's own records are merged into it, so
    // invocations running side by side (one per seed) keep each other's runs, newer ones included.
    keep: async (record) => {
      await storeStep0(benchmark, record);
      kept.push(record);
      runs = mergeRuns(await readResults(jsonPath), kept, benchmark.rows.map((r) => r.label));
      await writeText(jsonPath, resultsJson(runs));
    },
  };
  const missing: string[] = [];
  for (const task of tasks) {
    for (const row of rows) {
      for (const seed of seeds) {
        const record = await runOne(task, row, seed, invocation);
        if (record) await invocation.keep(record);
        else missing.push(`${task} ${row.label} seed ${seed}`);
      }
    }
  }
  await render(benchmark, out, runs, tasks, seeds);
  if (missing.length > 0) console.log(`[table] not finished: ${missing.join("; ")}`);
};

if (import.meta.main) await main(Deno.args);
