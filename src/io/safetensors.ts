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
import { Data, Effect, Result } from "effect";
import { writeFileAtomically } from "./atomic.ts";
import { DATA_CHECKSUM_KEY, dataChecksum, dataHasher, isChecksum } from "./integrity.ts";

/** Element types this module reads and writes (F16 and BF16 are read as F32). */
export type SafetensorsDType = "F64" | "I64" | "F32" | "I32" | "U8";

/** Element types accepted on read, including the half-precision ones converted to F32. */
export type StoredDType = SafetensorsDType | "F16" | "BF16";

/** The host array of each dtype. */
export type SafetensorsArray<D extends SafetensorsDType = SafetensorsDType> = D extends "F64"
  ? Float64Array
  : D extends "I64" ? BigInt64Array
  : D extends "F32" ? Float32Array
  : D extends "I32" ? Int32Array
  : Uint8Array;

/** One tensor: dtype, shape (outermost first) and its elements in row-major order. */
export interface SafetensorsTensor<D extends SafetensorsDType = SafetensorsDType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: SafetensorsArray<D>;
}

/** A decoded file: tensors by name, the string metadata, and each tensor's stored dtype. */
export interface SafetensorsFile {
  readonly tensors: ReadonlyMap<string, SafetensorsTensor>;
  readonly metadata: Readonly<Record<string, string>>;
  /** The dtype in the file (differs from the tensor's dtype only for F16/BF16). */
  readonly storedDtypes: ReadonlyMap<string, StoredDType>;
}

/** What is wrong with a safetensors file. */
export type SafetensorsProblem =
  | "truncated"
  | "header-length"
  | "invalid-json"
  | "invalid-header"
  | "offsets"
  | "dtype"
  | "shape"
  | "checksum";

/** A safetensors file is malformed: `problem` says which check failed, `detail` the specifics. */
export class SafetensorsFormatError extends Data.TaggedError("SafetensorsFormatError")<{
  readonly file: string;
  readonly problem: SafetensorsProblem;
  readonly detail: string;
}> {
  override get message(): string {
    return `${this.file}: ${this.problem}: ${this.detail}`;
  }
}

/** Tensors cannot be encoded (data length does not match the shape, or a bad name). */
export class SafetensorsEncodeError extends Data.TaggedError("SafetensorsEncodeError")<{
  readonly tensor: string;
  readonly reason: string;
}> {
  override get message(): string {
    return `cannot encode tensor ${this.tensor}: ${this.reason}`;
  }
}

/** Reading or writing a safetensors file failed at the file-system level. */
export class SafetensorsIoError extends Data.TaggedError("SafetensorsIoError")<{
  readonly file: string;
  readonly reason: string;
}> {
  override get message(): string {
    return `${this.file}: ${this.reason}`;
  }
}

const ITEM_BYTES: Record<StoredDType, number> = {
  F64: 8,
  I64: 8,
  F32: 4,
  I32: 4,
  F16: 2,
  BF16: 2,
  U8: 1,
};

const METADATA_KEY = "__metadata__";
const HEADER_ALIGN = 8;
// Far more than any real header; stops a corrupt length from allocating gigabytes of text.
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const isStoredDType = (s: unknown): s is StoredDType => typeof s === "string" && s in ITEM_BYTES;

const isIndex = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bytes of a typed array in little-endian order (a copy on big-endian hosts). */
const littleEndianBytes = (data: SafetensorsArray): Uint8Array => {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (HOST_IS_LITTLE_ENDIAN || data.BYTES_PER_ELEMENT === 1) return view;
  const out = new Uint8Array(view.length);
  const w = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < view.length; i += w) {
    for (let j = 0; j < w; j++) out[i + j] = view[i + w - 1 - j];
  }
  return out;
};

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

const halfToFloat = (h: number): number => {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
};

/** Converts little-endian bytes of a stored dtype to the host array of its tensor dtype. */
const toHostArray = (bytes: Uint8Array, dtype: StoredDType): SafetensorsArray => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length / ITEM_BYTES[dtype];
  switch (dtype) {
    case "U8":
      return bytes.slice();
    case "F16": {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      return out;
    }
    case "BF16": {
      // bfloat16 is the top half of a float32.
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(2 * i, true) << 16;
      return new Float32Array(bits.buffer);
    }
  }
  if (HOST_IS_LITTLE_ENDIAN) {
    // slice() copies into a fresh, aligned buffer.
    const copy = bytes.slice().buffer;
    return dtype === "F64"
      ? new Float64Array(copy)
      : dtype === "I64"
      ? new BigInt64Array(copy)
      : dtype === "F32"
      ? new Float32Array(copy)
      : new Int32Array(copy);
  }
  if (dtype === "F64") {
    return Float64Array.from({ length: n }, (_, i) => view.getFloat64(8 * i, true));
  }
  if (dtype === "I64") {
    return BigInt64Array.from({ length: n }, (_, i) => view.getBigInt64(8 * i, true));
  }
  if (dtype === "F32") {
    return Float32Array.from({ length: n }, (_, i) => view.getFloat32(4 * i, true));
  }
  return Int32Array.from({ length: n }, (_, i) => view.getInt32(4 * i, true));
};

interface HeaderEntry {
  readonly name: string;
  readonly dtype: StoredDType;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

/** Decodes the bytes of a safetensors file; `file` only names it in errors. */
export const decodeSafetensors = (
  bytes: Uint8Array,
  file: string,
): Result.Result<SafetensorsFile, SafetensorsFormatError> => {
  const fail = (problem: SafetensorsProblem, detail: string) =>
    Result.fail(new SafetensorsFormatError({ file, problem, detail }));
  if (bytes.length < 8) {
    return fail("truncated", `${bytes.length} bytes, fewer than the 8-byte header length`);
  }
  const declared = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (declared > BigInt(bytes.length - 8)) {
    return fail("header-length", `header of ${declared} bytes but only ${bytes.length - 8} follow`);
  }
  const headerLength = Number(declared);
  if (headerLength > MAX_HEADER_BYTES) {
    return fail("header-length", `header of ${headerLength} bytes is too large`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)),
    );
  } catch (e) {
    return fail("invalid-json", e instanceof Error ? e.message : String(e));
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return fail("invalid-header", "the header is not a JSON object");
  }
  const dataLength = bytes.length - 8 - headerLength;
  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (name === METADATA_KEY) {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        return fail("invalid-header", `${METADATA_KEY} is not an object`);
      }
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== "string") {
          return fail("invalid-header", `${METADATA_KEY}.${k} is not a string`);
        }
        metadata[k] = v;
      }
      continue;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return fail("invalid-header", `entry ${name} is not an object`);
    }
    const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
    if (!isStoredDType(dtype)) {
      return fail("dtype", `tensor ${name} has unknown dtype ${JSON.stringify(dtype)}`);
    }
    if (!Array.isArray(shape) || !shape.every(isIndex)) {
      return fail("invalid-header", `tensor ${name} has invalid shape ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
      return fail(
        "invalid-header",
        `tensor ${name} has invalid data_offsets ${JSON.stringify(offsets)}`,
      );
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLength) {
      return fail(
        "offsets",
        `tensor ${name} spans [${begin}, ${end}) outside the ${dataLength} data bytes`,
      );
    }
    const elements = product(shape);
    if (elements * ITEM_BYTES[dtype] !== end - begin) {
      return fail(
        "shape",
        `tensor ${name}: ${dtype} [${shape}] needs ${elements * ITEM_BYTES[dtype]} bytes, ` +
          `data_offsets give ${end - begin}`,
      );
    }
    entries.push({ name, dtype, shape, begin, end });
  }
  // The tensors must tile the data exactly: sorted by offset, each begins where the last ended.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of sorted) {
    if (e.begin < cursor) {
      return fail("offsets", `tensor ${e.name} at ${e.begin} overlaps bytes before ${cursor}`);
    }
    if (e.begin > cursor) {
      return fail("offsets", `bytes [${cursor}, ${e.begin}) belong to no tensor`);
    }
    cursor = e.end;
  }
  if (cursor !== dataLength) {
    return fail("offsets", `bytes [${cursor}, ${dataLength}) belong to no tensor`);
  }
  const dataStart = 8 + headerLength;
  const checksum = metadata[DATA_CHECKSUM_KEY];
  if (checksum !== undefined) {
    if (!isChecksum(checksum)) {
      return fail("checksum", `${DATA_CHECKSUM_KEY} ${JSON.stringify(checksum)} is not a SHA-256`);
    }
    const actual = dataChecksum(bytes.subarray(dataStart));
    if (actual !== checksum) {
      return fail(
        "checksum",
        `the tensor data does not match the checksum written with it (SHA-256 ${actual}, ` +
          `recorded ${checksum}): the file was damaged after it was written`,
      );
    }
  }
  const tensors = new Map<string, SafetensorsTensor>();
  const storedDtypes = new Map<string, StoredDType>();
  for (const e of entries) {
    const data = toHostArray(bytes.subarray(dataStart + e.begin, dataStart + e.end), e.dtype);
    const dtype: SafetensorsDType = e.dtype === "F16" || e.dtype === "BF16" ? "F32" : e.dtype;
    tensors.set(e.name, { dtype, shape: e.shape, data } as SafetensorsTensor);
    storedDtypes.set(e.name, e.dtype);
  }
  return Result.succeed({ tensors, metadata, storedDtypes });
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
