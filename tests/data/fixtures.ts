/**
 * Tiny on-disk datasets written into temporary folders for the data tests,
 * with the real codecs.
 *
 * @module
 */
import { Effect } from "effect";
import { encodeGreyPng, encodeJpeg, encodePalettePng, encodePngRgb } from "../../src/data/image.ts";
import type { Dataset } from "../../src/data/dataset.ts";
import type { Batch } from "../../src/data/loader.ts";
import { openVoc } from "../../src/data/voc.ts";

/** A temporary folder removed by `cleanup`. */
export interface TempDir {
  readonly path: string;
  cleanup(): Promise<void>;
}

/** Makes a temporary folder for one test. */
export async function tempDir(prefix = "gsc-data-"): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix });
  return { path, cleanup: () => Deno.remove(path, { recursive: true }) };
}

/** Writes bytes, creating parent folders. */
export async function writeFile(path: string, data: Uint8Array | string): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  if (typeof data === "string") await Deno.writeTextFile(path, data);
  else await Deno.writeFile(path, data);
}

/** An RGB gradient image whose pixels depend on (x, y, seed). */
export function gradientRgb(width: number, height: number, seed = 0): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      rgb[p] = (x * 8 + seed * 30) & 255;
      rgb[p + 1] = (y * 8 + seed * 50) & 255;
      rgb[p + 2] = (x * y + seed) & 255;
    }
  }
  return rgb;
}

/** A JPEG of a gradient image. */
export const jpegOf = (width: number, height: number, seed = 0): Promise<Uint8Array> =>
  Effect.runPromise(encodeJpeg({ width, height, data: gradientRgb(width, height, seed) }, 90));

/** An RGB PNG of a gradient image. */
export const rgbPngOf = (width: number, height: number, seed = 0): Uint8Array =>
  Effect.runSync(encodePngRgb({ width, height, data: gradientRgb(width, height, seed) }));

/** A palette PNG mask holding `labels`. */
export const paletteMask = (width: number, height: number, labels: Uint8Array): Uint8Array =>
  Effect.runSync(encodePalettePng({ width, height, data: labels }));

/** A grey PNG mask holding `labels`. */
export const greyMask = (width: number, height: number, labels: Uint8Array): Uint8Array =>
  Effect.runSync(encodeGreyPng({ width, height, data: labels }));

/** A mask whose pixels cycle through `classes` (so every class is present when there are enough pixels). */
export function maskWith(width: number, height: number, classes: readonly number[]): Uint8Array {
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = classes[i % classes.length];
  return data;
}

/** Writes a VOC-layout dataset: one sample per entry, list `ImageSets/Segmentation/<split>.txt`. */
export async function writeVoc(
  root: string,
  split: string,
  samples: readonly { name: string; classes: readonly number[] }[],
  size = 8,
): Promise<void> {
  const names: string[] = [];
  for (const [i, s] of samples.entries()) {
    await writeFile(`${root}/JPEGImages/${s.name}.jpg`, await jpegOf(size, size, i));
    await writeFile(
      `${root}/SegmentationClass/${s.name}.png`,
      paletteMask(size, size, maskWith(size, size, s.classes)),
    );
    names.push(s.name);
  }
  await writeFile(`${root}/ImageSets/Segmentation/${split}.txt`, names.join("\n") + "\n");
}

/** Runs an Effect expected to fail and returns its error. */
export async function failureOf<A, E>(effect: Effect.Effect<A, E>): Promise<E> {
  const result = await Effect.runPromise(Effect.result(effect));
  if (result._tag === "Success") throw new Error("expected a failure, got a success");
  return result.failure;
}

/**
 * Runs `run` on a VOC-layout `train` split of `count` 12x12 samples (sample
 * i holds background, class 1 + i, class 16 + i % 5 and ignored pixels),
 * removed afterwards.
 */
export async function withTrainSplit(
  count: number,
  run: (dataset: Dataset) => Promise<void>,
): Promise<void> {
  const dir = await tempDir();
  try {
    const samples = Array.from(
      { length: count },
      (_, i) => ({ name: `s${i}`, classes: [0, 1 + i, 16 + (i % 5), 255] }),
    );
    await writeVoc(dir.path, "train", samples, 12);
    await run(await Effect.runPromise(openVoc({ root: dir.path, split: "train" })));
  } finally {
    await dir.cleanup();
  }
}

/** Every batch of a stream, in order. */
export const collectBatches = async (stream: AsyncIterable<Batch>): Promise<Batch[]> => {
  const out: Batch[] = [];
  for await (const b of stream) out.push(b);
  return out;
};
