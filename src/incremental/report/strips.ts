/**
 * Prediction strips, `strips/step-<t>.png`: one row per validation image,
 * image | ground truth | prediction side by side, masks coloured with the
 * VOC palette and the ignore label 255 in white, rows stacked with a white
 * gap. Rows may differ in size (uncropped validation images): each panel
 * sits at the top left of its slot.
 *
 * @module
 */
import { Effect } from "effect";
import { encodePngRgb, ImageEncodeError, type RgbImage } from "../../data/image.ts";
import { VOC_PALETTE } from "../../data/palette.ts";

/** One row of a strip. */
export interface StripRow {
  readonly width: number;
  readonly height: number;
  /** RGB bytes, row-major, width * height * 3. */
  readonly rgb: Uint8Array;
  /** Ground-truth class per pixel (255 = ignore), width * height. */
  readonly label: ArrayLike<number>;
  /** Predicted class per pixel, width * height. */
  readonly prediction: ArrayLike<number>;
}

/** Pixels between panels and between rows. */
export const STRIP_GAP = 2;
const WHITE = [255, 255, 255] as const;
/** Indices outside the palette (negative, say) show as mid grey. */
const UNKNOWN = [128, 128, 128] as const;

/** The colour a mask shows for a class index: the VOC palette, 255 white. */
export const maskColour = (index: number): readonly [number, number, number] =>
  index === 255 ? WHITE : VOC_PALETTE[index] ?? UNKNOWN;

const checkRow = (row: StripRow, r: number) => {
  const pixels = row.width * row.height;
  if (
    row.rgb.length !== pixels * 3 || row.label.length !== pixels ||
    row.prediction.length !== pixels
  ) {
    throw new RangeError(`strip row ${r}: sizes do not match ${row.width} x ${row.height}`);
  }
};

/** The strip's RGB pixels (at least one row). */
export const stripPixels = (rows: readonly StripRow[]): RgbImage => {
  rows.forEach(checkRow);
  const slot = Math.max(...rows.map((r) => r.width));
  const width = 3 * slot + 2 * STRIP_GAP;
  const height = rows.reduce((sum, r) => sum + r.height, 0) + (rows.length - 1) * STRIP_GAP;
  const data = new Uint8Array(width * height * 3).fill(255);
  let top = 0;
  for (const row of rows) {
    for (let yy = 0; yy < row.height; yy++) {
      for (let xx = 0; xx < row.width; xx++) {
        const p = yy * row.width + xx;
        const line = (top + yy) * width;
        const panels = [
          [row.rgb[p * 3], row.rgb[p * 3 + 1], row.rgb[p * 3 + 2]],
          maskColour(row.label[p]),
          maskColour(row.prediction[p]),
        ];
        panels.forEach((rgb, panel) => {
          const o = (line + panel * (slot + STRIP_GAP) + xx) * 3;
          data[o] = rgb[0];
          data[o + 1] = rgb[1];
          data[o + 2] = rgb[2];
        });
      }
    }
    top += row.height + STRIP_GAP;
  }
  return { width, height, data };
};

/** The strip as PNG bytes (fails on no rows or mismatched sizes). */
export const stripPng = (rows: readonly StripRow[]): Effect.Effect<Uint8Array, ImageEncodeError> =>
  Effect.try({
    try: () => {
      if (rows.length === 0) throw new RangeError("a strip needs at least one row");
      return stripPixels(rows);
    },
    catch: (error) => new ImageEncodeError({ reason: String(error) }),
  }).pipe(Effect.flatMap(encodePngRgb));
