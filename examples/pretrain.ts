/**
 * Regenerates the shipped pretrained backbone, `weights/small-synthetic.safetensors`:
 * what an ImageNet ResNet is to Pascal VOC, for the synthetic benchmark.
 *
 *   deno task pretrain [--out FILE] [--epochs N] [--train N]
 *
 * 1. writes the pretraining corpus (`gsc synth --classes pretrain`): 20
 *    classes made only of shapes, colours and textures that no benchmark
 *    class uses, with the benchmark's clutter, occlusion and distractors;
 * 2. trains the `small` DeepLabV3 on all of its classes at once
 *    (`gsc train --method joint`, resumable);
 * 3. exports the backbone under torchvision ResNet names (no head), the file
 *    `gsc train --pretrained` loads.
 *
 * Every step is seeded, so the command remakes the same file on the same
 * adapter (the float sums of another adapter may differ in the last bits).
 *
 * @module
 */
import { Effect } from "effect";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { exportBackbone, gscMain, writeSyntheticVoc } from "../mod.ts";

/** Where the corpus, the run and the shipped file live by default. */
export const PRETRAIN_DEFAULTS = {
  corpus: "data/synthetic-pretrain",
  run: "runs/pretrain-small",
  out: "weights/small-synthetic.safetensors",
  seed: 1000,
  train: 1200,
  val: 100,
  epochs: 30,
} as const;

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      out: { type: "string", default: PRETRAIN_DEFAULTS.out },
      epochs: { type: "string", default: String(PRETRAIN_DEFAULTS.epochs) },
      train: { type: "string", default: String(PRETRAIN_DEFAULTS.train) },
    },
  });
  const { corpus, run, seed, val } = PRETRAIN_DEFAULTS;
  const started = performance.now();
  const written = await Deno.readTextFile(`${corpus}/synthetic.json`).then(JSON.parse, () => null);
  if (written !== null && written.counts?.train !== Number(values.train)) {
    console.error(
      `${corpus} holds ${written.counts?.train} training images, not --train ${values.train}: ` +
        "delete the folder to write the corpus again",
    );
    Deno.exit(2);
  }
  if (written === null) {
    await Effect.runPromise(writeSyntheticVoc({
      root: corpus,
      seed,
      classSet: "pretrain",
      counts: { train: Number(values.train), val, test: 0 },
    }));
    console.log(`wrote the pretraining corpus ${corpus}`);
  }
  const args = [
    "train",
    "--dataset",
    "synth",
    "--data-root",
    corpus,
    "--task",
    "19-1",
    "--method",
    "joint",
    "--pretrained",
    "none",
    "--epochs",
    values.epochs,
    "--eval-split",
    "val",
    "--seed",
    String(seed),
    "--out",
    run,
  ];
  const complete = await Deno.readTextFile(`${run}/summary.json`).then(
    (text) => JSON.parse(text).complete === true,
    () => false,
  );
  const trained = complete
    ? JSON.parse(await Deno.readTextFile(`${run}/config.json`)).epochs
    : undefined;
  if (complete && trained !== Number(values.epochs)) {
    console.error(
      `${run} finished ${trained} epochs, not --epochs ${values.epochs}: delete it to train again`,
    );
    Deno.exit(2);
  }
  if (!complete) {
    const partial = await exists(`${run}/checkpoints/last.safetensors`);
    const code = await gscMain([...args, ...(partial ? ["--resume"] : [])]);
    if (code !== 0) Deno.exit(code);
  }
  const step = JSON.parse(await Deno.readTextFile(`${run}/step-0.json`));
  await Deno.mkdir(dirname(values.out), { recursive: true });
  const tensors = await Effect.runPromise(
    exportBackbone(`${run}/checkpoints/step-0.safetensors`, values.out, {
      made_by: `deno task pretrain --epochs ${values.epochs} --train ${values.train}`,
      corpus: `gsc synth --classes pretrain --seed ${seed} --train ${values.train} --val ${val}`,
      train_command: `gsc ${args.join(" ")}`,
      corpus_val_miou: String(step.miouAll),
    }),
  );
  console.log(
    `wrote ${values.out}: ${tensors} backbone tensors; corpus val mIoU ${
      (step.miouAll * 100).toFixed(1)
    } %; ${((performance.now() - started) / 60000).toFixed(1)} min`,
  );
}
