/**
 * Reading one sample: decode its image and mask, check that they fit
 * together and that the mask holds only the dataset's labels, and map raw
 * mask values to training indices through the dataset's lookup table.
 * Decodings come from the decode cache when the same file was decoded before
 * with the same contents (`decode_cache.ts`).
 *
 * @module
 */
import { Effect } from "effect";
import { decodeImage, decodeLabelPng, type LabelImage, type RgbImage } from "./image.ts";
import type { DatasetInfo, SampleRef } from "./dataset.ts";
import {
  CorruptFileError,
  LabelOutOfRangeError,
  type SampleError,
  SizeMismatchError,
} from "./errors.ts";
import { readSampleFile } from "./files.ts";
import { cachedDecode } from "./decode_cache.ts";
import { applyLut } from "./labels.ts";

/** A decoded sample: RGB image and its mask in training indices (255 = ignore). */
export interface DecodedSample {
  readonly name: string;
  readonly image: RgbImage;
  readonly label: LabelImage;
}

/** Decoded bytes of an image or mask, for the decode cache's budget. */
const byteLength = (decoded: { readonly data: Uint8Array }): number => decoded.data.length;

const positionOf = (ref: SampleRef) => ({ listFile: ref.listFile, line: ref.line });

/** The raw values of a mask that the dataset does not allow, ascending. */
export function illegalValues(raw: Uint8Array, validRaw: Uint8Array): number[] {
  const seen = new Uint8Array(256);
  for (let i = 0; i < raw.length; i++) seen[raw[i]] = 1;
  const bad: number[] = [];
  for (let v = 0; v < 256; v++) if (seen[v] && !validRaw[v]) bad.push(v);
  return bad;
}

/** Reads and validates a sample's mask, returned in training indices. */
export function readLabel(
  ref: SampleRef,
  info: DatasetInfo,
): Effect.Effect<LabelImage, SampleError> {
  return Effect.gen(function* () {
    const bytes = yield* readSampleFile(ref.label, positionOf(ref));
    const raw = yield* Effect.mapError(
      cachedDecode("label", ref.label, bytes, (b) => decodeLabelPng(b, ref.label), byteLength),
      (e) => new CorruptFileError({ file: ref.label, ...positionOf(ref), reason: e.reason }),
    );
    const bad = illegalValues(raw.data, info.validRaw);
    if (bad.length > 0) {
      return yield* new LabelOutOfRangeError({
        file: ref.label,
        ...positionOf(ref),
        values: bad,
        allowed: info.allowedRaw,
      });
    }
    return { width: raw.width, height: raw.height, data: applyLut(raw.data, info.rawToTrain) };
  });
}

/** Reads and validates a whole sample (image + mask of the same size). */
export function readSample(
  ref: SampleRef,
  info: DatasetInfo,
): Effect.Effect<DecodedSample, SampleError> {
  return Effect.gen(function* () {
    const bytes = yield* readSampleFile(ref.image, positionOf(ref));
    const image = yield* Effect.mapError(
      cachedDecode("image", ref.image, bytes, (b) => decodeImage(b, ref.image), byteLength),
      (e) => new CorruptFileError({ file: ref.image, ...positionOf(ref), reason: e.reason }),
    );
    const label = yield* readLabel(ref, info);
    if (label.width !== image.width || label.height !== image.height) {
      return yield* new SizeMismatchError({
        file: ref.label,
        imageFile: ref.image,
        imageSize: [image.width, image.height],
        maskSize: [label.width, label.height],
        ...positionOf(ref),
      });
    }
    return { name: ref.name, image, label };
  });
}

/** The sorted distinct values of a label map (255 included when present). */
export function classSetOf(labels: Uint8Array): number[] {
  const seen = new Uint8Array(256);
  for (let i = 0; i < labels.length; i++) seen[labels[i]] = 1;
  const classes: number[] = [];
  for (let v = 0; v < 256; v++) if (seen[v]) classes.push(v);
  return classes;
}
