/**
 * Real data is evaluated as MiB and PLOP evaluate by default (`crop_val`
 * off): every image of the split at its own size, one image a batch, so
 * every labelled pixel counts once. A VOC root (JPEGImages, palette masks
 * in SegmentationClass, ImageSets/Segmentation lists) of non-square images
 * of several sizes is evaluated by `evaluateStep` over the engine's
 * evaluation loader, and the pixels it counted equal the non-255 pixels of
 * the mask files decoded here with fast-png (independently of the
 * project's reader); after step 0 of 19-1, class 20 is not seen yet and
 * leaves the count too. With `--crop-val` the loader gives batches of
 * `--crop` squares instead (the reference codes' centre crop).
 */
import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import type { ClassTask } from "../../src/data/tasks.ts";
import { Effect, Result } from "effect";
import { decode as decodePng } from "fast-png";
import { parseTrainOptions } from "../../src/cli/mod.ts";
import { evaluateStep } from "../../src/incremental/evaluate.ts";
import { evalLoader, openRunData } from "../../src/incremental/data.ts";
import { modelConfigFor } from "../../src/incremental/model_config.ts";
import type { RunConfig } from "../../src/incremental/types.ts";
import { makeDeepLabV3 } from "../../src/nn/mod.ts";
import { jpegOf, paletteMask, writeFile } from "../data/fixtures.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";

/** Validation images: [name, width, height], none square, of several sizes and aspects. */
const VAL: readonly [string, number, number][] = [
  ["2008_000001", 45, 31],
  ["2008_000002", 23, 57],
  ["2008_000003", 64, 40],
  ["2008_000004", 37, 50],
];
const CROP = 32;

/** A mask with class regions, a 255 outline band and a block of class 20. */
const maskOf = (width: number, height: number, seed: number) => {
  const labels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const band = (x + 2 * y + seed) % 11 === 0;
      const late = x < width / 4 && y < height / 3;
      labels[y * width + x] = band ? 255 : late ? 20 : ((x >> 3) + (y >> 3) + seed) % 20;
    }
  }
  return labels;
};

const root = await Deno.makeTempDir({ prefix: "gsc-eval-full-" });
globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
const writeSplit = async (split: string, images: readonly [string, number, number][]) => {
  for (const [i, [name, width, height]] of images.entries()) {
    await writeFile(`${root}/JPEGImages/${name}.jpg`, await jpegOf(width, height, i));
    await writeFile(
      `${root}/SegmentationClass/${name}.png`,
      paletteMask(width, height, maskOf(width, height, i)),
    );
  }
  await writeFile(
    `${root}/ImageSets/Segmentation/${split}.txt`,
    images.map(([name]) => name).join("\n") + "\n",
  );
};
await writeSplit("val", VAL);
await writeSplit("train", [["2007_000001", 40, 33], ["2007_000002", 33, 40]]);

const configOf = (...extra: string[]): RunConfig => {
  const parsed = parseTrainOptions([
    ...["--dataset", "voc", "--data-root", root, "--task", "19-1", "--method", "ft"],
    ...["--backbone", "small", "--crop", String(CROP), "--batch-size", "2"],
    ...["--train-split", "train", "--eval-split", "val", "--out", `${root}/run`],
    ...extra,
  ]);
  if (!Result.isSuccess(parsed)) throw new Error(parsed.failure.message);
  return parsed.success.config;
};

/** The masks' labelled pixels, decoded here with fast-png: not 255, and seen by step t. */
const labelledPixels = async (seenUpTo: number) => {
  let count = 0;
  for (const [name, width, height] of VAL) {
    const png = decodePng(await Deno.readFile(`${root}/SegmentationClass/${name}.png`));
    assertEquals([png.width, png.height, png.channels], [width, height, 1]);
    for (const v of png.data) if (v !== 255 && v <= seenUpTo) count++;
  }
  return count;
};

/** Evaluates a fresh model after step `t`; the loader's batch shapes and the metrics. */
const evaluate = (config: RunConfig, t: number) =>
  runGpu(Effect.gen(function* () {
    const data = yield* openRunData(config, "eval");
    const shapes = yield* Effect.promise(async () => {
      const out: number[][] = [];
      for await (const b of evalLoader(data, config, t).epoch(0)) {
        out.push([b.size, b.height, b.width]);
      }
      return out;
    });
    const scope = yield* Effect.scope;
    const classes = (data.task as ClassTask).steps.slice(0, t + 1).flat().length;
    const model = yield* makeDeepLabV3(modelConfigFor(config, classes), {
      seed: 5,
      trainable: false,
      scope,
    });
    const evaluation = yield* evaluateStep(model, data.task, t, evalLoader(data, config, t), 2);
    return { shapes, metrics: evaluation.metrics, strips: evaluation.strips };
  }));

Deno.test(
  "VOC evaluation: every full image at its own size, batch 1; pixels counted = labelled mask pixels",
  gpuTestOptions,
  async () => {
    const config = configOf();
    assertEquals(config.cropVal, undefined);
    // After step 1 of 19-1 every class is seen: all non-255 pixels count.
    const last = await evaluate(config, 1);
    assertEquals(last.shapes, VAL.map(([, width, height]) => [1, height, width]));
    const all = await labelledPixels(20);
    assertEquals(all, 6470); // of 7116 pixels
    assertEquals(last.metrics.pixels, all);
    assertEquals(last.metrics.images, VAL.length);
    assertEquals(
      last.strips.map((s) => [s.name, s.width, s.height]),
      VAL.slice(0, 2).map(([name, width, height]) => [name, width, height]),
    );
    // After step 0, class 20 is not seen yet: its pixels are ignored too.
    const first = await evaluate(config, 0);
    const seen = await labelledPixels(19);
    assertEquals(seen, 5886);
    assertEquals(first.metrics.pixels, seen);
  },
);

Deno.test(
  "VOC evaluation with --crop-val: centre crops at --crop, batched",
  gpuTestOptions,
  async () => {
    const config = configOf("--crop-val");
    assertEquals(config.cropVal, true);
    const result = await evaluate(config, 1);
    assertEquals(result.shapes, [[2, CROP, CROP], [2, CROP, CROP]]);
    assertEquals(result.metrics.images, VAL.length);
    ok(result.metrics.pixels! <= VAL.length * CROP * CROP, `${result.metrics.pixels}`);
  },
);
