/**
 * Integrity checks of tensor files: the SHA-256 of a safetensors file's
 * tensor data (Deno's built-in `node:crypto`, native speed: about 1.5 GB/s
 * here), stored as hex in the header's `__metadata__` under
 * {@link DATA_CHECKSUM_KEY} and verified on read, and the scan for NaN and
 * infinite values that keeps diverged weights out of checkpoints.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** The `__metadata__` key holding the SHA-256 (lower-case hex) of the data section. */
export const DATA_CHECKSUM_KEY = "data_sha256";

/** An incremental SHA-256 over byte chunks, digested as lower-case hex. */
export interface DataHasher {
  readonly update: (bytes: Uint8Array) => void;
  readonly digest: () => string;
}

/** A fresh {@link DataHasher}. */
export const dataHasher = (): DataHasher => {
  const hash = createHash("sha256");
  return {
    update: (bytes) => void hash.update(bytes),
    digest: () => hash.digest("hex"),
  };
};

/** The SHA-256 of `bytes` as lower-case hex. */
export const dataChecksum = (bytes: Uint8Array): string => {
  const hasher = dataHasher();
  hasher.update(bytes);
  return hasher.digest();
};

/** Whether `text` has the form of a {@link dataChecksum}. */
export const isChecksum = (text: string): boolean => /^[0-9a-f]{64}$/.test(text);

/** The index of the first NaN or infinite element of `data`, or -1 when all are finite. */
export const firstNonFinite = (data: ArrayLike<number>): number => {
  for (let i = 0; i < data.length; i++) {
    // x - x is 0 for finite x and NaN for NaN and ±Infinity.
    if (data[i] - data[i] !== 0) return i;
  }
  return -1;
};
