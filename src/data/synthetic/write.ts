/**
 * Writes the synthetic benchmark in the exact Pascal VOC layout, so the VOC
 * reader and every VOC task split work on it unchanged:
 * `JPEGImages/*.jpg`, palette masks in `SegmentationClass/*.png`,
 * `ImageSets/Segmentation/{train,val,test}.txt`, plus `synthetic.json`
 * describing how it was made. `test` comes from its own random stream.
 *
 * @module
 */
import { Effect } from "effect";
import { encodeJpeg, encodePalettePng, type ImageEncodeError } from "../image.ts";
import { DataWriteError } from "../errors.ts";
import { joinPath } from "../files.ts";
import { SeededRng } from "../../util/rng.ts";
import { BENCHMARK_CLASS_SET, SCENE_GROUPS } from "./classes.ts";
import { PRETRAIN_CLASS_SET } from "./pretrain_classes.ts";
import { renderScene } from "./render.ts";

/** Which classes a synthetic dataset draws: the benchmark's or the pretraining corpus's. */
export type SyntheticClassSetName = "benchmark" | "pretrain";

const CLASS_SETS = { benchmark: BENCHMARK_CLASS_SET, pretrain: PRETRAIN_CLASS_SET } as const;

/** Options of {@link writeSyntheticVoc}; every field has a default. */
export interface SyntheticOptions {
  /** Output folder (created). Default `data/synthetic-voc`. */
  readonly root?: string;
  /** Seed of every random choice. Default 0. */
  readonly seed?: number;
  /** Image side in pixels. Default 64. */
  readonly size?: number;
  /** Images per split. Default {@link SYNTHETIC_DEFAULT_COUNTS}. */
  readonly counts?: { readonly train?: number; readonly val?: number; readonly test?: number };
  /** JPEG quality (fixed so files are byte-identical across runs). Default 90. */
  readonly jpegQuality?: number;
  /** Mark object boundaries 255 like VOC. Default true. */
  readonly voidBorder?: boolean;
  /**
   * "benchmark" (default): the benchmark's 20 classes. "pretrain": the
   * pretraining corpus's 20 classes (pretrain_classes.ts), which share no
   * shape, colour or texture with the benchmark's.
   */
  readonly classSet?: SyntheticClassSetName;
}

/** The default output folder of the synthetic benchmark. */
export const DEFAULT_SYNTHETIC_ROOT = "data/synthetic-voc";

/**
 * Images per split of the benchmark. The training split is large because a
 * base model trained on few images overfits them (docs/datasets.md); `val` and
 * `test` stay small, so evaluating after every step stays cheap.
 */
export const SYNTHETIC_DEFAULT_COUNTS = { train: 6000, val: 150, test: 150 } as const;

/** What {@link writeSyntheticVoc} wrote. */
export interface SyntheticSummary {
  readonly root: string;
  readonly seed: number;
  readonly size: number;
  readonly counts: { readonly train: number; readonly val: number; readonly test: number };
  /** Images containing each class (index 0..20), per split. */
  readonly imagesPerClass: Readonly<Record<string, readonly number[]>>;
}

/** Version of the generator; bump when the images it makes change. */
export const SYNTHETIC_GENERATOR_VERSION = 1;

const write = (file: string, data: Uint8Array | string) =>
  Effect.tryPromise({
    try: () => (typeof data === "string"
      ? Deno.writeTextFile(file, data)
      : Deno.writeFile(file, data)),
    catch: (error) =>
      new DataWriteError({ file, reason: String(error) }),
  });

/**
 * Generates the dataset. Image `i` of a split depends only on (seed, split
 * stream, i): changing a count does not change the other images.
 */
export function writeSyntheticVoc(
  options: SyntheticOptions = {},
): Effect.Effect<SyntheticSummary, DataWriteError | ImageEncodeError> {
  return Effect.gen(function* () {
    const root = options.root ?? DEFAULT_SYNTHETIC_ROOT;
    const seed = options.seed ?? 0;
    const size = options.size ?? 64;
    const quality = options.jpegQuality ?? 90;
    const voidBorder = options.voidBorder ?? true;
    const classSetName = options.classSet ?? "benchmark";
    const classSet = CLASS_SETS[classSetName];
    const counts = {
      train: options.counts?.train ?? SYNTHETIC_DEFAULT_COUNTS.train,
      val: options.counts?.val ?? SYNTHETIC_DEFAULT_COUNTS.val,
      test: options.counts?.test ?? SYNTHETIC_DEFAULT_COUNTS.test,
    };
    for (const dir of ["JPEGImages", "SegmentationClass", "ImageSets/Segmentation"]) {
      const path = joinPath(root, dir);
      yield* Effect.tryPromise({
        try: () => Deno.mkdir(path, { recursive: true }),
        catch: (error) => new DataWriteError({ file: path, reason: String(error) }),
      });
    }
    // train and val share one stream family, test has its own: test images are never tuned on.
    const streams = { train: "trainval", val: "trainval", test: "test" } as const;
    const imagesPerClass: Record<string, number[]> = {};
    for (const split of ["train", "val", "test"] as const) {
      const names: string[] = [];
      const perClass = new Array<number>(21).fill(0);
      for (let i = 0; i < counts[split]; i++) {
        const name = `${split}_${String(i + 1).padStart(6, "0")}`;
        const rng = new SeededRng(seed, streams[split], split, i);
        const scene = renderScene(rng, { size, voidBorder, classSet });
        const jpg = yield* encodeJpeg({ width: size, height: size, data: scene.rgb }, quality);
        const png = yield* encodePalettePng({ width: size, height: size, data: scene.labels });
        yield* write(joinPath(root, "JPEGImages", `${name}.jpg`), jpg);
        yield* write(joinPath(root, "SegmentationClass", `${name}.png`), png);
        const present = new Uint8Array(256);
        for (const l of scene.labels) present[l] = 1;
        for (let c = 0; c <= 20; c++) perClass[c] += present[c];
        names.push(name);
      }
      yield* write(
        joinPath(root, "ImageSets", "Segmentation", `${split}.txt`),
        names.join("\n") + "\n",
      );
      imagesPerClass[split] = perClass;
    }
    const summary: SyntheticSummary = { root, seed, size, counts, imagesPerClass };
    const meta = {
      generator: "gsc-webgpu synthetic VOC",
      version: SYNTHETIC_GENERATOR_VERSION,
      seed,
      size,
      counts,
      jpegQuality: quality,
      voidBorder,
      classSet: classSetName,
      classes: classSet.classes,
      sceneGroups: SCENE_GROUPS,
      imagesPerClass,
    };
    yield* write(joinPath(root, "synthetic.json"), JSON.stringify(meta, null, 2) + "\n");
    return summary;
  });
}
