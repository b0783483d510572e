/**
 * The safetensors format's types, tagged errors and constants, shared by the
 * encoder (safetensors.ts) and the decoder (safetensors_decode.ts).
 *
 * @module
 */
import { Data } from "effect";

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

/** Shared by the encoder and the decoder: `ITEM_BYTES`. */
export const ITEM_BYTES: Record<StoredDType, number> = {
  F64: 8,
  I64: 8,
  F32: 4,
  I32: 4,
  F16: 2,
  BF16: 2,
  U8: 1,
};

/** Shared by the encoder and the decoder: `METADATA_KEY`. */
export const METADATA_KEY = "__metadata__";
/** Shared by the encoder and the decoder: `HEADER_ALIGN`. */
export const HEADER_ALIGN = 8;
// Far more than any real header; stops a corrupt length from allocating gigabytes of text.
/** Shared by the encoder and the decoder: `MAX_HEADER_BYTES`. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** Shared by the encoder and the decoder: `isStoredDType`. */
export const isStoredDType = (s: unknown): s is StoredDType =>
  typeof s === "string" && s in ITEM_BYTES;

/** Shared by the encoder and the decoder: `isIndex`. */
export const isIndex = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Shared by the encoder and the decoder: `product`. */
export const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Shared by the encoder and the decoder: `HOST_IS_LITTLE_ENDIAN`. */
export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bytes of a typed array in little-endian order (a copy on big-endian hosts). */
export const littleEndianBytes = (data: SafetensorsArray): Uint8Array => {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (HOST_IS_LITTLE_ENDIAN || data.BYTES_PER_ELEMENT === 1) return view;
  const out = new Uint8Array(view.length);
  const w = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < view.length; i += w) {
    for (let j = 0; j < w; j++) out[i + j] = view[i + w - 1 - j];
  }
  return out;
};
