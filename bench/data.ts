/**
 * Decode throughput of the image codecs compared for the data layer, on the
 * synthetic benchmark: JPEG with `jpeg-js` (pure JS) vs `@jsquash/jpeg`
 * (MozJPEG in WebAssembly); palette PNG masks with `fast-png` vs `pngjs`
 * (which only gives RGBA, so the indices must be recovered from the palette).
 * Runs standalone: `deno run -A bench/data.ts [--size 64,256] [--count 200]`.
 *
 * @module
 */
import { Effect } from "effect";
import jpeg from "jpeg-js";
import { decode as decodeMozJpeg } from "@jsquash/jpeg";
import { decode as decodeFastPng } from "fast-png";
import { PNG } from "pngjs";
import { Buffer } from "node:buffer";
import { VOC_PALETTE, writeSyntheticVoc } from "../mod.ts";

/** One row of the table: a codec's decode rate on one image size. */
export interface DecodeRate {
  readonly codec: string;
  readonly format: "jpeg" | "png mask";
  readonly size: number;
  readonly imagesPerSecond: number;
}

/** Images per second of `decode` over `files`, after one warm-up pass. */
async function rate(
  files: readonly Uint8Array[],
  decode: (bytes: Uint8Array) => unknown | Promise<unknown>,
) {
  for (const f of files.slice(0, 10)) await decode(f);
  const started = performance.now();
  for (const f of files) await decode(f);
  return files.length / ((performance.now() - started) / 1000);
}

/** pngjs gives RGBA: recover each pixel's index through a colour -> index table. */
const paletteIndex = new Map(VOC_PALETTE.map((c, i) => [(c[0] << 16) | (c[1] << 8) | c[2], i]));
function pngjsIndices(bytes: Uint8Array): Uint8Array {
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  const out = new Uint8Array(png.width * png.height);
  for (let p = 0; p < out.length; p++) {
    out[p] = paletteIndex.get(
      (png.data[p * 4] << 16) | (png.data[p * 4 + 1] << 8) | png.data[p * 4 + 2],
    ) ?? 255;
  }
  return out;
}

/** Measures every codec on synthetic images of each size and prints a table. */
export async function benchData(
  sizes: readonly number[] = [64, 256],
  count = 200,
): Promise<DecodeRate[]> {
  const rows: DecodeRate[] = [];
  for (const size of sizes) {
    const root = await Deno.makeTempDir({ prefix: "gsc-bench-data-" });
    try {
      await Effect.runPromise(
        writeSyntheticVoc({ root, size, counts: { train: count, val: 0, test: 0 } }),
      );
      const names = (await Deno.readTextFile(`${root}/ImageSets/Segmentation/train.txt`)).trim()
        .split("\n");
      const jpegs = await Promise.all(
        names.map((n) => Deno.readFile(`${root}/JPEGImages/${n}.jpg`)),
      );
      const masks = await Promise.all(
        names.map((n) => Deno.readFile(`${root}/SegmentationClass/${n}.png`)),
      );
      const add = (codec: string, format: DecodeRate["format"], imagesPerSecond: number) =>
        rows.push({ codec, format, size, imagesPerSecond });
      add(
        "jpeg-js 0.4.4",
        "jpeg",
        await rate(jpegs, (b) => jpeg.decode(b, { useTArray: true, formatAsRGBA: false })),
      );
      add("@jsquash/jpeg 1.6.0", "jpeg", await rate(jpegs, (b) => decodeMozJpeg(b.slice().buffer)));
      add("fast-png 8.0.0", "png mask", await rate(masks, (b) => decodeFastPng(b)));
      add("pngjs 7.0.0 (+palette lookup)", "png mask", await rate(masks, pngjsIndices));
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  }
  console.log("| codec | format | image size | decoded images/s |");
  console.log("| --- | --- | --- | --- |");
  for (const r of rows) {
    console.log(
      `| ${r.codec} | ${r.format} | ${r.size}x${r.size} | ${Math.round(r.imagesPerSecond)} |`,
    );
  }
  return rows;
}

if (import.meta.main) {
  const at = (flag: string) => Deno.args.indexOf(flag);
  const sizes = at("--size") >= 0 ? Deno.args[at("--size") + 1].split(",").map(Number) : undefined;
  const count = at("--count") >= 0 ? Number(Deno.args[at("--count") + 1]) : undefined;
  await benchData(sizes, count);
}
