/**
 * Writes a synthetic set in the exact Cityscapes layout, so `openCityscapes`
 * and the domain-incremental tasks (`cityscapes/11-5`, `11-1`, `1-1`) run on
 * it unchanged: `leftImg8bit/{train,val}/<city>/<city>_000000_<i>_leftImg8bit.png`
 * (RGB PNG) and `gtFine/{train,val}/<city>/<same>_gtFine_labelIds.png`
 * (8-bit grey, labelIds), the 21 real city names (frankfurt, lindau and
 * munster under `val`, as in Cityscapes), plus `synthetic.json`. Every city
 * draws its own rendering style ({@link drawCityStyle}); image `i` of a city
 * depends only on (seed, city, i).
 *
 * @module
 */
import { Effect } from "effect";
import { encodeGreyPng, encodePngRgb, type ImageEncodeError } from "../image.ts";
import { DataWriteError } from "../errors.ts";
import { joinPath } from "../files.ts";
import { SeededRng } from "../../util/rng.ts";
import { CITYSCAPES_VAL_CITIES, RCIL_CITY_ORDER } from "../cityscapes_domain.ts";
import { drawCityStyle, driftHue, renderStreet } from "./street.ts";

/** Options of {@link writeSyntheticCityscapes}; every field has a default. */
export interface SyntheticCityscapesOptions {
  /** Output folder (created). Default `data/synthetic-cityscapes`. */
  readonly root?: string;
  /** Seed of every random choice. Default 0. */
  readonly seed?: number;
  /** Image width in pixels (height is half of it, Cityscapes' 2:1). Default 64. */
  readonly width?: number;
  /** Images per city. Default 10. */
  readonly imagesPerCity?: number;
  /**
   * Palette drift in degrees: the cities' hue turns linearly along RCIL's city
   * order from 0 (the first city) to this (the last), so later domain steps
   * show colours the first step never saw. Default 0 (no drift).
   */
  readonly drift?: number;
}

/** The default output folder of the synthetic Cityscapes set. */
export const DEFAULT_SYNTHETIC_CITYSCAPES_ROOT = "data/synthetic-cityscapes";

/** What {@link writeSyntheticCityscapes} wrote. */
export interface SyntheticCityscapesSummary {
  readonly root: string;
  readonly seed: number;
  readonly width: number;
  readonly height: number;
  readonly cities: readonly string[];
  readonly imagesPerCity: number;
  /** Palette drift in degrees from the first city to the last (0: none). */
  readonly drift: number;
}

/** Version of the generator; bump when the images it makes change. */
export const SYNTHETIC_CITYSCAPES_VERSION = 1;

const write = (file: string, data: Uint8Array | string) =>
  Effect.tryPromise({
    try: async () => {
      await Deno.mkdir(file.slice(0, file.lastIndexOf("/")), { recursive: true });
      if (typeof data === "string") await Deno.writeTextFile(file, data);
      else await Deno.writeFile(file, data);
    },
    catch: (error) => new DataWriteError({ file, reason: String(error) }),
  });

/** Generates the set (21 cities x `imagesPerCity` images). */
export function writeSyntheticCityscapes(
  options: SyntheticCityscapesOptions = {},
): Effect.Effect<SyntheticCityscapesSummary, DataWriteError | ImageEncodeError> {
  return Effect.gen(function* () {
    const root = options.root ?? DEFAULT_SYNTHETIC_CITYSCAPES_ROOT;
    const seed = options.seed ?? 0;
    const width = options.width ?? 64;
    const height = Math.max(8, Math.round(width / 2));
    const imagesPerCity = options.imagesPerCity ?? 10;
    const drift = options.drift ?? 0;
    const styles: Record<string, unknown> = {};
    for (const [index, city] of RCIL_CITY_ORDER.entries()) {
      const split = CITYSCAPES_VAL_CITIES.includes(city) ? "val" : "train";
      const drawn = drawCityStyle(new SeededRng(seed, "city-style", city));
      const hue = driftHue(drift, index, RCIL_CITY_ORDER.length);
      const style = hue === 0 ? drawn : { ...drawn, hue };
      styles[city] = style;
      for (let i = 0; i < imagesPerCity; i++) {
        const name = `${city}_000000_${String(i).padStart(6, "0")}`;
        const scene = renderStreet(
          new SeededRng(seed, "city-image", city, i),
          style,
          width,
          height,
        );
        const image = yield* encodePngRgb({ width, height, data: scene.rgb });
        const mask = yield* encodeGreyPng({ width, height, data: scene.labelIds });
        yield* write(joinPath(root, "leftImg8bit", split, city, `${name}_leftImg8bit.png`), image);
        yield* write(joinPath(root, "gtFine", split, city, `${name}_gtFine_labelIds.png`), mask);
      }
    }
    const summary: SyntheticCityscapesSummary = {
      root,
      seed,
      width,
      height,
      cities: RCIL_CITY_ORDER,
      imagesPerCity,
      drift,
    };
    const meta = {
      generator: "gsc-webgpu synthetic Cityscapes",
      version: SYNTHETIC_CITYSCAPES_VERSION,
      ...summary,
      styles,
    };
    yield* write(joinPath(root, "synthetic.json"), JSON.stringify(meta, null, 2) + "\n");
    return summary;
  });
}
