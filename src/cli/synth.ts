/**
 * `gsc synth`: writes the synthetic VOC-layout benchmark (see
 * `src/data/synthetic/write.ts`), or with `--layout cityscapes` the
 * synthetic Cityscapes-layout set of the domain tasks
 * (`src/data/synthetic/cityscapes.ts`), and prints what it wrote.
 *
 * @module
 */
import { Effect, Result } from "effect";
import {
  DEFAULT_SYNTHETIC_ROOT,
  SYNTHETIC_DEFAULT_COUNTS,
  type SyntheticOptions,
  type SyntheticSummary,
  writeSyntheticVoc,
} from "../data/synthetic/write.ts";
import {
  DEFAULT_SYNTHETIC_CITYSCAPES_ROOT,
  writeSyntheticCityscapes,
} from "../data/synthetic/cityscapes.ts";
import { VOC_CLASSES } from "../data/classes.ts";
import type { CliError } from "./errors.ts";
import { OptionReader, type OptionSpec, readOptions } from "./spec.ts";

/** Every option of `gsc synth`, in help order. */
export const SYNTH_OPTIONS: readonly OptionSpec[] = [
  {
    name: "layout",
    value: "NAME",
    description: "voc, or cityscapes (21 cities in the Cityscapes layout; --size is the width)",
    defaultText: "voc",
  },
  {
    name: "out",
    value: "DIR",
    description: `output folder (cityscapes: ${DEFAULT_SYNTHETIC_CITYSCAPES_ROOT})`,
    defaultText: DEFAULT_SYNTHETIC_ROOT,
  },
  { name: "per-city", value: "N", description: "cityscapes: images per city", defaultText: "10" },
  {
    name: "drift",
    value: "DEG",
    description: "cityscapes: palette hue turned from the first city (0) to the last (DEG)",
    defaultText: "0",
  },
  {
    name: "train",
    value: "N",
    description: "training images",
    defaultText: String(SYNTHETIC_DEFAULT_COUNTS.train),
  },
  {
    name: "val",
    value: "N",
    description: "validation images",
    defaultText: String(SYNTHETIC_DEFAULT_COUNTS.val),
  },
  {
    name: "test",
    value: "N",
    description: "test images (own random stream)",
    defaultText: String(SYNTHETIC_DEFAULT_COUNTS.test),
  },
  { name: "size", value: "PX", description: "image side, 16..1024", defaultText: "64" },
  {
    name: "classes",
    value: "SET",
    description: "benchmark|pretrain: the benchmark's classes or the pretraining corpus's",
    defaultText: "benchmark",
  },
  { name: "seed", value: "N", description: "seed of every random choice", defaultText: "0" },
  { name: "help", description: "show this help" },
];

/** What `gsc synth` writes: the VOC layout, or the Cityscapes layout when `layout` says so. */
export type SynthCommand = SyntheticOptions & {
  readonly root: string;
  /** Present only with `--layout cityscapes`. */
  readonly layout?: "cityscapes";
  /** Images per city (Cityscapes layout). */
  readonly perCity?: number;
  /** Palette drift in degrees over the cities (Cityscapes layout). */
  readonly drift?: number;
};

/** Parses `gsc synth`'s options into the generator's options (defaults filled). */
export function parseSynthOptions(
  argv: readonly string[],
): Result.Result<SynthCommand, CliError> {
  return Result.gen(function* () {
    const read = new OptionReader(yield* readOptions(argv, SYNTH_OPTIONS));
    const count = { integer: true, min: 0 };
    const layout = yield* read.choice("layout", "voc", ["voc", "cityscapes"] as const);
    if (layout === "cityscapes") {
      return {
        layout,
        root: read.text("out", DEFAULT_SYNTHETIC_CITYSCAPES_ROOT),
        seed: yield* read.number("seed", 0, { integer: true, min: 0, max: 2 ** 32 - 1 }),
        size: yield* read.number("size", 64, { integer: true, min: 16, max: 1024 }),
        perCity: yield* read.number("per-city", 10, { integer: true, min: 1 }),
        drift: yield* read.number("drift", 0, { min: -360, max: 360 }),
      };
    }
    const classSet = yield* read.choice("classes", "benchmark", ["benchmark", "pretrain"] as const);
    return {
      root: read.text("out", DEFAULT_SYNTHETIC_ROOT),
      ...(classSet === "benchmark" ? {} : { classSet }),
      seed: yield* read.number("seed", 0, { integer: true, min: 0, max: 2 ** 32 - 1 }),
      size: yield* read.number("size", 64, { integer: true, min: 16, max: 1024 }),
      counts: {
        train: yield* read.number("train", SYNTHETIC_DEFAULT_COUNTS.train, {
          integer: true,
          min: 1,
        }),
        val: yield* read.number("val", SYNTHETIC_DEFAULT_COUNTS.val, count),
        test: yield* read.number("test", SYNTHETIC_DEFAULT_COUNTS.test, count),
      },
    };
  });
}

/** The report `gsc synth` prints: counts, timing and images per class. */
export function describeSynthetic(summary: SyntheticSummary, seconds: number): string {
  const { train, val, test } = summary.counts;
  const lines = [
    `wrote ${summary.root}: ${train} train, ${val} val, ${test} test images of ` +
    `${summary.size}x${summary.size} (seed ${summary.seed}) in ${seconds.toFixed(2)} s`,
    "images per class (train / val / test):",
  ];
  for (let c = 0; c < VOC_CLASSES.length; c++) {
    const [a, b, t] = ["train", "val", "test"].map((s) => summary.imagesPerClass[s]?.[c] ?? 0);
    lines.push(`  ${String(c).padStart(2)} ${VOC_CLASSES[c].padEnd(12)} ${a} / ${b} / ${t}`);
  }
  return lines.join("\n");
}

/** The body of `gsc synth`: writes the dataset, then prints {@link describeSynthetic}. */
export const runSynth = (
  options: SyntheticOptions & Pick<SynthCommand, "layout" | "perCity" | "drift">,
  print: (text: string) => void = console.log,
) =>
  Effect.gen(function* () {
    const started = performance.now();
    if (options.layout === "cityscapes") {
      const city = yield* writeSyntheticCityscapes({
        root: options.root,
        seed: options.seed,
        width: options.size,
        imagesPerCity: options.perCity,
        drift: options.drift,
      });
      print(
        `wrote ${city.root}: ${city.cities.length} cities x ${city.imagesPerCity} images of ` +
          `${city.width}x${city.height} (seed ${city.seed}` +
          `${city.drift ? `, palette drift ${city.drift} degrees` : ""}) in ` +
          `${((performance.now() - started) / 1000).toFixed(2)} s`,
      );
      return city;
    }
    const summary = yield* writeSyntheticVoc(options);
    print(describeSynthetic(summary, (performance.now() - started) / 1000));
    return summary;
  });
