/**
 * Image codecs for the data layer. JPEG decoding through `jpeg-js` (pure
 * JavaScript, synchronous), JPEG encoding through MozJPEG (`@jsquash/jpeg`,
 * deterministic bytes), PNG through `fast-png` (pure JavaScript, keeps palette
 * indices as indices).
 * `docs/datasets.md` has the measured comparison with the alternatives.
 *
 * Every decoder takes the file name only to put it into its error.
 *
 * @module
 */
import { Data, Effect } from "effect";
import jpeg from "jpeg-js";
import { encode as encodeMozJpeg } from "@jsquash/jpeg";
import { decode as decodePngRaw, encode as encodePngRaw } from "fast-png";
import { VOC_PALETTE } from "./palette.ts";

/** An image file could not be decoded (truncated, corrupt, unsupported format). */
export class ImageDecodeError extends Data.TaggedError("ImageDecodeError")<{
  readonly file: string;
  readonly reason: string;
}> {}

/** An image could not be encoded (bad dimensions or buffer length). */
export class ImageEncodeError extends Data.TaggedError("ImageEncodeError")<{
  readonly reason: string;
}> {}

/** An 8-bit RGB image, row-major, 3 bytes per pixel. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** A single-channel 8-bit label map (class index per pixel), row-major. */
export interface LabelImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

const JPEG_MAGIC = [0xff, 0xd8];
const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const startsWith = (bytes: Uint8Array, magic: readonly number[]): boolean =>
  bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);

/** True when the bytes start with the JPEG signature. */
export const isJpeg = (bytes: Uint8Array): boolean => startsWith(bytes, JPEG_MAGIC);

/** True when the bytes start with the PNG signature. */
export const isPng = (bytes: Uint8Array): boolean => startsWith(bytes, PNG_MAGIC);

const message = (error: unknown): string => error instanceof Error ? error.message : String(error);

/** Drops the alpha channel of an RGBA buffer. */
function rgbaToRgb(rgba: Uint8Array, pixels: number): Uint8Array {
  const rgb = new Uint8Array(pixels * 3);
  for (let p = 0, q = 0; p < pixels; p++, q += 4) {
    rgb[p * 3] = rgba[q];
    rgb[p * 3 + 1] = rgba[q + 1];
    rgb[p * 3 + 2] = rgba[q + 2];
  }
  return rgb;
}

/** Decodes a baseline/progressive JPEG to RGB. */
export function decodeJpeg(
  bytes: Uint8Array,
  file: string,
): Effect.Effect<RgbImage, ImageDecodeError> {
  return Effect.try({
    try: () => {
      if (!isJpeg(bytes)) throw new Error("not a JPEG (missing SOI marker)");
      // formatAsRGBA=false gives 3 bytes per pixel directly; the size cap guards corrupt headers.
      const out = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: false,
        maxMemoryUsageInMB: 1024,
      });
      if (out.width <= 0 || out.height <= 0) throw new Error("empty image");
      return { width: out.width, height: out.height, data: out.data as Uint8Array };
    },
    catch: (error) => new ImageDecodeError({ file, reason: message(error) }),
  });
}

/** Decodes an 8-bit PNG (grey, grey+alpha, RGB, RGBA or palette) to RGB. */
export function decodePngRgb(
  bytes: Uint8Array,
  file: string,
): Effect.Effect<RgbImage, ImageDecodeError> {
  return Effect.try({
    try: () => {
      const png = decodePngRaw(bytes, { checkCrc: true });
      if (png.depth !== 8) throw new Error(`unsupported bit depth ${png.depth}`);
      const { width, height } = png;
      const pixels = width * height;
      const src = png.data as Uint8Array;
      if (png.palette) {
        const rgb = new Uint8Array(pixels * 3);
        for (let p = 0; p < pixels; p++) {
          const colour = png.palette[src[p]] ?? [0, 0, 0];
          rgb[p * 3] = colour[0];
          rgb[p * 3 + 1] = colour[1];
          rgb[p * 3 + 2] = colour[2];
        }
        return { width, height, data: rgb };
      }
      if (png.channels === 3) return { width, height, data: src };
      if (png.channels === 4) return { width, height, data: rgbaToRgb(src, pixels) };
      // Grey (with or without alpha): replicate the grey value.
      const rgb = new Uint8Array(pixels * 3);
      for (let p = 0; p < pixels; p++) {
        const v = src[p * png.channels];
        rgb[p * 3] = v;
        rgb[p * 3 + 1] = v;
        rgb[p * 3 + 2] = v;
      }
      return { width, height, data: rgb };
    },
    catch: (error) => new ImageDecodeError({ file, reason: message(error) }),
  });
}

/** Decodes a JPEG or PNG to RGB, choosing the codec by the file's signature. */
export function decodeImage(
  bytes: Uint8Array,
  file: string,
): Effect.Effect<RgbImage, ImageDecodeError> {
  if (isJpeg(bytes)) return decodeJpeg(bytes, file);
  if (isPng(bytes)) return decodePngRgb(bytes, file);
  return Effect.fail(new ImageDecodeError({ file, reason: "neither a JPEG nor a PNG signature" }));
}

/**
 * Decodes a label PNG to raw 8-bit values: palette PNGs (VOC) give their
 * indices, NOT the palette colours; 8-bit grey PNGs (ADE20K, Cityscapes)
 * give their grey values. Colour PNGs are refused: their values are not labels.
 */
export function decodeLabelPng(
  bytes: Uint8Array,
  file: string,
): Effect.Effect<LabelImage, ImageDecodeError> {
  return Effect.try({
    try: () => {
      if (!isPng(bytes)) throw new Error("not a PNG (missing signature)");
      const png = decodePngRaw(bytes, { checkCrc: true });
      if (png.depth !== 8) throw new Error(`label PNG must be 8-bit, got depth ${png.depth}`);
      const pixels = png.width * png.height;
      const src = png.data as Uint8Array;
      if (png.palette || png.channels === 1) {
        return { width: png.width, height: png.height, data: src.subarray(0, pixels) };
      }
      if (png.channels === 2) {
        const out = new Uint8Array(pixels);
        for (let p = 0; p < pixels; p++) out[p] = src[p * 2];
        return { width: png.width, height: png.height, data: out };
      }
      throw new Error(`label PNG must be palette or grey, got ${png.channels} channels`);
    },
    catch: (error) => new ImageDecodeError({ file, reason: message(error) }),
  });
}

/**
 * Encodes RGB to a baseline JPEG with MozJPEG (WebAssembly, integer DCT): the
 * same input and quality always give the same bytes, on every machine.
 * `jpeg-js`'s encoder rebuilds its tables on every call (about 10 ms even for
 * a 64x64 image), which made generating the synthetic set several times slower.
 */
export function encodeJpeg(
  image: RgbImage,
  quality: number,
): Effect.Effect<Uint8Array, ImageEncodeError> {
  return Effect.tryPromise({
    try: async () => {
      const pixels = image.width * image.height;
      if (image.data.length !== pixels * 3) {
        throw new Error("RGB buffer length is not width*height*3");
      }
      const rgba = new Uint8ClampedArray(pixels * 4);
      for (let p = 0; p < pixels; p++) {
        rgba[p * 4] = image.data[p * 3];
        rgba[p * 4 + 1] = image.data[p * 3 + 1];
        rgba[p * 4 + 2] = image.data[p * 3 + 2];
        rgba[p * 4 + 3] = 255;
      }
      // Deno has no ImageData constructor; the encoder only reads these fields.
      const imageData = {
        data: rgba,
        width: image.width,
        height: image.height,
        colorSpace: "srgb",
      } as ImageData;
      const out = await encodeMozJpeg(imageData, {
        quality,
        baseline: true,
        progressive: false,
        optimize_coding: true,
      });
      return new Uint8Array(out);
    },
    catch: (error) => new ImageEncodeError({ reason: message(error) }),
  });
}

/** Encodes an RGB image as an 8-bit RGB PNG. */
export function encodePngRgb(image: RgbImage): Effect.Effect<Uint8Array, ImageEncodeError> {
  return Effect.try({
    try: () =>
      encodePngRaw({
        width: image.width,
        height: image.height,
        data: image.data,
        depth: 8,
        channels: 3,
      }),
    catch: (error) => new ImageEncodeError({ reason: message(error) }),
  });
}

/**
 * Encodes a label map as an 8-bit palette PNG (VOC's mask format): the pixel
 * values are the indices, the palette only colours them for viewers.
 */
export function encodePalettePng(
  labels: LabelImage,
  palette: readonly (readonly [number, number, number])[] = VOC_PALETTE,
): Effect.Effect<Uint8Array, ImageEncodeError> {
  return Effect.try({
    try: () =>
      encodePngRaw({
        width: labels.width,
        height: labels.height,
        data: labels.data,
        depth: 8,
        channels: 1,
        palette: palette.map((c) => [c[0], c[1], c[2]] as [number, number, number]),
      }),
    catch: (error) => new ImageEncodeError({ reason: message(error) }),
  });
}

/** Encodes a label map as an 8-bit greyscale PNG (ADE20K's and Cityscapes' mask format). */
export function encodeGreyPng(labels: LabelImage): Effect.Effect<Uint8Array, ImageEncodeError> {
  return Effect.try({
    try: () =>
      encodePngRaw({
        width: labels.width,
        height: labels.height,
        data: labels.data,
        depth: 8,
        channels: 1,
      }),
    catch: (error) => new ImageEncodeError({ reason: message(error) }),
  });
}
