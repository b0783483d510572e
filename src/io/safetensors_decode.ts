/**
 * Decoding safetensors bytes: every check of the container (header length and
 * JSON, dtypes, shapes, offsets without gaps or overlaps, the data checksum
 * where present) fails with a tagged error naming the file; it never throws.
 * F16 and BF16 tensors are read as F32.
 *
 * @module
 */
import { Result } from "effect";
import { DATA_CHECKSUM_KEY, dataChecksum, isChecksum } from "./integrity.ts";
import {
  HOST_IS_LITTLE_ENDIAN,
  isIndex,
  isStoredDType,
  ITEM_BYTES,
  MAX_HEADER_BYTES,
  METADATA_KEY,
  product,
  type SafetensorsArray,
  type SafetensorsDType,
  type SafetensorsFile,
  SafetensorsFormatError,
  type SafetensorsProblem,
  type SafetensorsTensor,
  type StoredDType,
} from "./safetensors_format.ts";

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
