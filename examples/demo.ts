/**
 * The one-command demo: writes a small copy of the synthetic benchmark if it is
 * missing (the first 600 of its training images and the same 150 val and 150
 * test images, in `data/synthetic-voc-demo`) and runs the whole 15-1
 * overlapped task with GSC on the small model (from the shipped pretrained
 * backbone, on a short budget: 4 epochs at step 0, 6 after), then
 * prints the per-step table and the report's path. A finished demo run is
 * shown again without retraining; an interrupted one is resumed.
 *
 *   deno task demo [extra gsc train options, e.g. --method mib --out runs/x]
 *
 * @module
 */
import { Effect } from "effect";
import { gscMain as main, SYNTHETIC_DEFAULT_COUNTS, writeSyntheticVoc } from "../mod.ts";

/** The demo's data: the benchmark's first 600 training images and its whole val and test splits. */
const DEMO_DATA = "data/synthetic-voc-demo";
const DEMO_TRAIN_IMAGES = 600;

const percent = (v: number | null) => v === null ? "  –  " : (v * 100).toFixed(1).padStart(5);

/** Prints the per-step table of a run directory's `step-<t>.json` files. */
const printTable = async (out: string) => {
  const summary = JSON.parse(await Deno.readTextFile(`${out}/summary.json`));
  console.log("\nstep | old   | new   | all   (mIoU %, test split)");
  for (let t = 0; t < summary.steps; t++) {
    const m = JSON.parse(await Deno.readTextFile(`${out}/step-${t}.json`));
    console.log(
      `${String(t).padStart(4)} | ${percent(m.miouOld)} | ${percent(m.miouNew)} | ` +
        `${percent(m.miouAll)}`,
    );
  }
  console.log(`average of all-class mIoU over steps: ${percent(summary.average)}`);
  console.log(`report: ${out}/report.md`);
};

if (import.meta.main) {
  const outAt = Deno.args.indexOf("--out");
  const out = outAt >= 0 ? Deno.args[outAt + 1] : "runs/demo";
  const complete = await Deno.readTextFile(`${out}/summary.json`).then(
    (text) => JSON.parse(text).complete === true,
    () => false,
  );
  if (!complete) {
    const partial = await Deno.stat(`${out}/checkpoints/last.safetensors`).then(
      () => true,
      () => false,
    );
    const started = performance.now();
    const ownData = !Deno.args.includes("--data-root");
    const written = await Deno.stat(`${DEMO_DATA}/synthetic.json`).then(() => true, () => false);
    if (ownData && !written) {
      console.log(
        `writing ${DEMO_DATA} (the benchmark's first ${DEMO_TRAIN_IMAGES} training images)`,
      );
      await Effect.runPromise(writeSyntheticVoc({
        root: DEMO_DATA,
        counts: { ...SYNTHETIC_DEFAULT_COUNTS, train: DEMO_TRAIN_IMAGES },
      }));
    }
    const code = await main([
      "train",
      "--dataset",
      "synth",
      "--task",
      "15-1",
      "--overlap",
      "--method",
      "gsc",
      // A short budget so the demo ends in minutes on a CPU; the table uses the full recipe.
      // Later steps get 6 epochs: at 4, the new classes' rows (copies of the background's at
      // each step's start) stay so close to it that the background is lost from step 4 on.
      ...(ownData ? ["--data-root", DEMO_DATA] : []),
      "--epochs",
      "4",
      "--epochs-next",
      "6",
      ...(outAt >= 0 ? [] : ["--out", out]),
      ...(partial ? ["--resume"] : []),
      ...Deno.args,
    ]);
    if (code !== 0) Deno.exit(code);
    console.log(`demo finished in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  } else {
    console.log(`${out} holds a finished demo run; showing it (delete the folder to retrain)`);
  }
  await printTable(out);
}
