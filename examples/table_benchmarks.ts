/**
 * The two benchmarks `deno task table` runs: the synthetic class-incremental
 * benchmark (VOC layout, overlapped tasks 15-1, 10-1, ...; Joint, every
 * method and GSC's ablations) and the synthetic domain-incremental benchmark
 * (Cityscapes layout, RCIL's tasks 11-5, 11-1, 1-1: every step learns the 19
 * classes in new cities). Each names its rows, the data it trains on and how
 * it is written, the train options of every run and of a run that trains its
 * own step 0, and where its results go.
 *
 * @module
 */

/** A row of a table: a label and the train options that make it. */
export interface Row {
  readonly label: string;
  readonly args: readonly string[];
}

/** A benchmark of the results table. */
export interface Benchmark {
  /** `--benchmark` value. */
  readonly name: "class" | "domain";
  /** `gsc train --dataset` of its runs (decides which tasks share step 0). */
  readonly dataset: "synth" | "cityscapes";
  /** The image filter or protocol each record is filed under. */
  readonly setting: string;
  readonly rows: readonly Row[];
  /** Tasks run when `--tasks` is not given. */
  readonly tasks: string;
  /** The markdown written (the json beside it). */
  readonly out: string;
  /** Markdown appended after the tables. */
  readonly notes: string;
  /** What the runs are evaluated on, named in each section heading. */
  readonly split: string;
  readonly title: string;
  readonly intro: string;
  /** Options of every `gsc train` run: the data and the recipe. */
  readonly trainArgs: readonly string[];
  /** Options of a run that trains its own step 0 (not of one that loads a shared one). */
  readonly ownStep0Args: readonly string[];
  /** The `gsc synth` options that write the data, and the file that says it is written. */
  readonly data?: { readonly marker: string; readonly synth: readonly string[] };
}

/** The class-incremental rows: Joint (the upper bound), every method, GSC's ablations. */
const CLASS_ROWS: readonly Row[] = [
  { label: "Joint", args: ["--method", "joint"] },
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

const CLASS_INTRO = "Rendered by `deno task table` from the run records in the json file " +
  "beside this one (one record per finished run: old/new/all mIoU per step, per-class IoU, " +
  "minutes, commit and the `gsc train` command; `deno task table --render` renders this " +
  "file again from it). Each cell is mean ± std over seeds of the mIoU after the last step " +
  "(old = step-0 classes with background, new = classes of later steps, all = every class) " +
  "and the average of the all-class mIoU over steps. Joint, the upper bound, trains every " +
  "class in one step with the step-0 recipe on every training image; its old and new split " +
  "the classes by the task's first step (the tasks share one joint run per seed: they have " +
  "the same classes, and its per-class IoU is split anew by each task's first step). Step 0 " +
  "is trained once per first step and seed (in an FT run; 15-5 and 15-1 share it) and loaded by every other incremental row " +
  "(`--step0`), so their minutes exclude it. Columns `old, N` ... are the last step's mIoU " +
  "on N test images (`--large-test`; the standard 150 and more from the same stream), where " +
  "runs have them.";

/** The synthetic class-incremental benchmark (`results/synthetic.*`). */
export const CLASS_BENCHMARK: Benchmark = {
  name: "class",
  dataset: "synth",
  setting: "overlap",
  rows: CLASS_ROWS,
  tasks: "10-1,15-1,15-5,19-1",
  out: "results/synthetic.md",
  notes: "results/synthetic-notes.md",
  split: "test split",
  title: "Results on the synthetic benchmark",
  intro: CLASS_INTRO,
  // The synthetic set is written by `gsc train` when missing; its defaults are the recipe.
  trainArgs: ["--dataset", "synth", "--overlap"],
  ownStep0Args: [],
};

/**
 * The synthetic Cityscapes-layout set of the domain benchmark: 21 cities x 40 images of 128x64,
 * the palette's hue turning by 180 degrees along RCIL's city order.
 */
const DOMAIN_DATA = "data/synthetic-cityscapes-drift180";

const DOMAIN_INTRO = "Rendered by `deno task table --benchmark domain` from the run records " +
  "in the json file beside this one. Domain-incremental: every step learns the 19 classes " +
  "in new cities (RCIL's protocol: 11 cities, then 5 a step or 1 a step); after each step " +
  "the held-out 20 % of every city seen so far is evaluated. Old = the first step's cities, " +
  "new = the cities of later steps, all = every city seen; `old after step 0` is the first " +
  "cities' mIoU before any later step, `forgotten` how much of it the last step lost. Each " +
  "cell is mean ± std over seeds. The set is `gsc synth --layout cityscapes --size 128 " +
  "--per-city 40 --drift 180`: cities differ in palette, lighting, texture statistics, noise " +
  "and object scale, and the palette's hue turns by 180 degrees from the first city to the " +
  "last, so later steps show colours the first step never saw. Every run uses the `small` " +
  "backbone from the shipped pretrained weights, output stride 8, 64-pixel crops, batch 8, " +
  "20 epochs at lr 0.05 for step 0 and 12 at lr 0.01 for each later step. Step 0 is trained once per seed (in an FT run; 11-5 and 11-1 share " +
  "it) and loaded by every other run, so their minutes exclude it.";

/** The synthetic domain-incremental benchmark (`results/synthetic-domain.*`). */
export const DOMAIN_BENCHMARK: Benchmark = {
  name: "domain",
  dataset: "cityscapes",
  setting: "domain",
  rows: CLASS_ROWS.filter((r) => ["FT", "LwF", "ILT", "MiB", "PLOP", "GSC"].includes(r.label)),
  tasks: "11-5,11-1",
  out: "results/synthetic-domain.md",
  notes: "results/synthetic-domain-notes.md",
  split: "held-out 20 % of each city",
  title: "Results on the synthetic domain-incremental benchmark",
  intro: DOMAIN_INTRO,
  trainArgs: [
    "--dataset",
    "cityscapes",
    "--data-root",
    DOMAIN_DATA,
    "--backbone",
    "small",
    "--output-stride",
    "8",
    "--crop",
    "64",
    "--batch-size",
    "8",
    "--epochs",
    "20",
    "--epochs-next",
    "12",
    "--lr",
    "0.05",
    "--lr-next",
    "0.01",
    "--scale-min",
    "0.75",
    "--scale-max",
    "1.25",
  ],
  ownStep0Args: ["--pretrained", "weights/small-synthetic.safetensors"],
  data: {
    marker: `${DOMAIN_DATA}/synthetic.json`,
    synth: [
      "--layout",
      "cityscapes",
      "--out",
      DOMAIN_DATA,
      "--size",
      "128",
      "--per-city",
      "40",
      "--drift",
      "180",
    ],
  },
};

/** The benchmarks by `--benchmark` value. */
export const BENCHMARKS: Readonly<Record<Benchmark["name"], Benchmark>> = {
  class: CLASS_BENCHMARK,
  domain: DOMAIN_BENCHMARK,
};
