/**
 * The safetensors format: an 8-byte little-endian header length, a JSON
 * header `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?:
 * {string: string}}`, then the raw little-endian tensor bytes (offsets are
 * relative to the end of the header).
 *
 * Decoding validates everything and returns a tagged error naming the file and
 * the problem; it never throws. Encoding is deterministic: names are sorted,
 * the header is space-padded to 8 bytes, and the data is laid out widest dtype
 * first so every tensor starts aligned to its element size with no gaps (gaps
 * are invalid in the format). Writing is atomic: a temp file in the same
 * directory, fsync, rename. On request the encoder records the SHA-256 of the
 * data section in the metadata (`data_sha256`); the decoder verifies it
 * wherever it is present, so a flipped bit in the tensor data is caught.
 *
 * @module
 */
import { Effect, Result } from "effect";
import { writeFileAtomically } from "./atomic.ts";
import { DATA_CHECKSUM_KEY, dataHasher } from "./integrity.ts";
import {
  HEADER_ALIGN,
  isIndex,
  ITEM_BYTES,
  littleEndianBytes,
  METADATA_KEY,
  product,
  SafetensorsEncodeError,
  type SafetensorsFile,
  type SafetensorsFormatError,
  SafetensorsIoError,
  type SafetensorsTensor,
} from "./safetensors_format.ts";
import { decodeSafetensors } from "./safetensors_decode.ts";

export {
  SafetensorsEncodeError,
  SafetensorsFormatError,
  SafetensorsIoError,
} from "./safetensors_format.ts";
export type {
  SafetensorsArray,
  SafetensorsDType,
  SafetensorsFile,
  SafetensorsProblem,
  SafetensorsTensor,
  StoredDType,
} from "./safetensors_format.ts";
export { decodeSafetensors } from "./safetensors_decode.ts";

/** Options of {@link encodeSafetensors}. */
export interface EncodeOptions {
  /** Record the SHA-256 of the data section in the metadata (`data_sha256`). */
  readonly checksum?: boolean;
}

/** Encodes tensors and string metadata into the bytes of a safetensors file. */
export const encodeSafetensors = (
  tensors: Readonly<Record<string, SafetensorsTensor>> | ReadonlyMap<string, SafetensorsTensor>,
  metadata: Readonly<Record<string, string>> = {},
  options: EncodeOptions = {},
): Result.Result<Uint8Array, SafetensorsEncodeError> => {
  const entries: [string, SafetensorsTensor][] = tensors instanceof Map
    ? [...(tensors as ReadonlyMap<string, SafetensorsTensor>).entries()]
    : Object.entries(tensors as Record<string, SafetensorsTensor>);
  for (const [name, t] of entries) {
    if (name === METADATA_KEY || name.length === 0) {
      return Result.fail(
        new SafetensorsEncodeError({ tensor: name, reason: "reserved or empty name" }),
      );
    }
    if (
      !(t.dtype in ITEM_BYTES) || t.dtype === ("F16" as string) || t.dtype === ("BF16" as string)
    ) {
      return Result.fail(
        new SafetensorsEncodeError({ tensor: name, reason: `dtype ${t.dtype} not writable` }),
      );
    }
    if (!t.shape.every(isIndex)) {
      return Result.fail(
        new SafetensorsEncodeError({ tensor: name, reason: `invalid shape [${t.shape}]` }),
      );
    }
    if (t.data.length !== product(t.shape) || t.data.BYTES_PER_ELEMENT !== ITEM_BYTES[t.dtype]) {
      return Result.fail(
        new SafetensorsEncodeError({
          tensor: name,
          reason: `${t.data.length} elements of ${t.data.BYTES_PER_ELEMENT} bytes do not fill ` +
            `${t.dtype} [${t.shape}]`,
        }),
      );
    }
  }
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  // Widest elements first: every offset is then a multiple of its element size with no gaps.
  const layout = [...entries].sort(([na, ta], [nb, tb]) =>
    ITEM_BYTES[tb.dtype] - ITEM_BYTES[ta.dtype] || byName(na, nb)
  );
  const offsets = new Map<string, [number, number]>();
  let end = 0;
  for (const [name, t] of layout) {
    offsets.set(name, [end, end + t.data.byteLength]);
    end += t.data.byteLength;
  }
  let meta = metadata;
  if (options.checksum) {
    // The data section is the tensors' bytes in layout order, without gaps.
    const hasher = dataHasher();
    for (const [, t] of layout) hasher.update(littleEndianBytes(t.data));
    meta = { ...metadata, [DATA_CHECKSUM_KEY]: hasher.digest() };
  }
  // JSON is written by hand: an object literal would move integer-like names to the front.
  const fields: string[] = [];
  const metaKeys = Object.keys(meta).sort(byName);
  if (metaKeys.length > 0) {
    const pairs = metaKeys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(meta[k])}`);
    fields.push(`${JSON.stringify(METADATA_KEY)}:{${pairs.join(",")}}`);
  }
  for (const [name, t] of [...entries].sort(([a], [b]) => byName(a, b))) {
    const entry = { dtype: t.dtype, shape: [...t.shape], data_offsets: offsets.get(name) };
    fields.push(`${JSON.stringify(name)}:${JSON.stringify(entry)}`);
  }
  const json = new TextEncoder().encode(`{${fields.join(",")}}`);
  const headerBytes = Math.ceil(json.length / HEADER_ALIGN) * HEADER_ALIGN;
  const out = new Uint8Array(8 + headerBytes + end);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerBytes);
  const dataStart = 8 + headerBytes;
  for (const [name, t] of layout) {
    out.set(littleEndianBytes(t.data), dataStart + offsets.get(name)![0]);
  }
  return Result.succeed(out);
};

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Reads and decodes a safetensors file. */
export const readSafetensors = (
  path: string,
): Effect.Effect<SafetensorsFile, SafetensorsFormatError | SafetensorsIoError> =>
  Effect.tryPromise({
    try: () => Deno.readFile(path),
    catch: (e) => new SafetensorsIoError({ file: path, reason: describe(e) }),
  }).pipe(Effect.flatMap((bytes) => Effect.fromResult(decodeSafetensors(bytes, path))));

/** Encodes tensors and metadata and writes them to `path` atomically. */
export const writeSafetensors = (
  path: string,
  tensors: Readonly<Record<string, SafetensorsTensor>> | ReadonlyMap<string, SafetensorsTensor>,
  metadata: Readonly<Record<string, string>> = {},
  options: EncodeOptions = {},
): Effect.Effect<void, SafetensorsEncodeError | SafetensorsIoError> =>
  Effect.fromResult(encodeSafetensors(tensors, metadata, options)).pipe(
    Effect.flatMap((bytes) =>
      Effect.tryPromise({
        try: () => writeFileAtomically(path, bytes),
        catch: (e) => new SafetensorsIoError({ file: path, reason: describe(e) }),
      })
    ),
  );
