/**
 * Checkpoints: one safetensors file holding the model's state dict under
 * torchvision's names and in torchvision's layout (conv weights OIHW,
 * `num_batches_tracked` as an I64 scalar), so PyTorch tools and torchvision's
 * `load_state_dict` accept it; the caller's state as JSON in the
 * `__metadata__` entry `gsc`; and any extra tensors the caller names (the
 * optimizer's momentum, prototypes, ...).
 *
 * Loading checks every expected name, shape and dtype before writing
 * anything, and fails with a {@link CheckpointError} naming the file and the
 * tensor. Corrupt, truncated or lying files fail the same way (the
 * safetensors decoder validates the container). Saving records the SHA-256
 * of the tensor data, which reading verifies (files without one, such as
 * converted torchvision weights, still load); saving refuses and loading
 * rejects NaN or infinite values.
 *
 * @module
 */
import { Data, Effect, Result } from "effect";
import type { GpuError } from "../gpu/errors.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  type SafetensorsFile,
  type SafetensorsTensor,
  type StoredDType,
  writeSafetensors,
} from "../io/safetensors.ts";
import { type DeepLabConfig, type DeepLabV3, isDeepLabConfig } from "./mod.ts";
import { firstNonFinite } from "../io/integrity.ts";

/** Which check a checkpoint failed. */
export type CheckpointProblem =
  | "io"
  | "format"
  | "meta"
  | "missing"
  | "unexpected"
  | "shape"
  | "dtype"
  | "encode"
  | "checksum"
  | "non-finite";

/** A checkpoint cannot be read, written or loaded; names the file and, where known, the tensor. */
export class CheckpointError extends Data.TaggedError("CheckpointError")<{
  readonly file: string;
  readonly problem: CheckpointProblem;
  readonly tensor?: string;
  readonly detail: string;
}> {
  override get message(): string {
    const where = this.tensor === undefined ? this.file : `${this.file}: tensor ${this.tensor}`;
    return `${where}: ${this.problem}: ${this.detail}`;
  }
}

/** The `__metadata__` key holding the checkpoint's JSON. */
export const CHECKPOINT_META_KEY = "gsc";

/** An extra tensor: f32 data with a shape (the optimizer's form) or any safetensors tensor. */
export type ExtraTensor = SafetensorsTensor | {
  readonly shape: readonly number[];
  readonly data: Float32Array;
};

/** A checkpoint read back. */
export interface Checkpoint {
  readonly path: string;
  /** Every tensor of the file by name (model state dict and extras). */
  readonly tensors: Readonly<Record<string, SafetensorsTensor>>;
  /** The dtype each tensor had in the file (F16/BF16 are decoded to F32). */
  readonly storedDtypes: Readonly<Record<string, StoredDType>>;
  /** The caller's metadata (undefined for files without `gsc` metadata, e.g. converted ones). */
  readonly meta: unknown;
  /** The configuration of the model that wrote it (classifier rows as saved). */
  readonly model: DeepLabConfig | undefined;
}

/** What {@link saveCheckpoint} writes. */
export interface CheckpointContents {
  readonly model: DeepLabV3;
  /** Extra tensors; their names must not clash with the model's. */
  readonly extraTensors?: Readonly<Record<string, ExtraTensor>>;
  /** Any JSON-serialisable value (step, classes, RNG state, schedule...). */
  readonly meta?: unknown;
}

/** The first NaN or infinite element of a float tensor: its index and value. */
export const nonFiniteElement = (
  t: SafetensorsTensor,
): { index: number; value: number } | undefined => {
  if (t.dtype !== "F32" && t.dtype !== "F64") return undefined;
  const data = t.data as Float32Array | Float64Array;
  const index = firstNonFinite(data);
  return index < 0 ? undefined : { index, value: data[index] };
};

interface StoredMeta {
  readonly format: 1;
  readonly model: DeepLabConfig;
  readonly meta: unknown;
}

/** The safetensors tensors and metadata of a checkpoint (shared by save and tests). */
export const checkpointTensors = (
  path: string,
  contents: CheckpointContents,
): Effect.Effect<
  { tensors: Map<string, SafetensorsTensor>; metadata: Record<string, string> },
  CheckpointError | GpuError
> =>
  Effect.gen(function* () {
    const { model } = contents;
    const state = yield* model.stateDict();
    const tensors = new Map<string, SafetensorsTensor>();
    for (const [name, t] of state) tensors.set(name, t as SafetensorsTensor);
    for (const [name, t] of Object.entries(contents.extraTensors ?? {})) {
      if (tensors.has(name)) {
        return yield* new CheckpointError({
          file: path,
          problem: "encode",
          tensor: name,
          detail: "an extra tensor has the name of a model tensor",
        });
      }
      tensors.set(name, "dtype" in t ? t : { dtype: "F32", shape: t.shape, data: t.data });
    }
    for (const [name, t] of tensors) {
      const bad = nonFiniteElement(t);
      if (bad) {
        return yield* new CheckpointError({
          file: path,
          problem: "non-finite",
          tensor: name,
          detail: `element ${bad.index} is ${bad.value}; a checkpoint with NaN or infinite ` +
            `values is not written`,
        });
      }
    }
    const stored: StoredMeta = {
      format: 1,
      model: { ...model.config, numClasses: model.numClasses },
      meta: contents.meta,
    };
    let json: string;
    try {
      json = JSON.stringify(stored);
    } catch (e) {
      return yield* new CheckpointError({ file: path, problem: "meta", detail: String(e) });
    }
    return { tensors, metadata: { [CHECKPOINT_META_KEY]: json } };
  });

/** Writes a checkpoint atomically (temp file, fsync, rename). */
export const saveCheckpoint = (
  path: string,
  contents: CheckpointContents,
): Effect.Effect<void, CheckpointError | GpuError> =>
  Effect.gen(function* () {
    const { tensors, metadata } = yield* checkpointTensors(path, contents);
    yield* writeSafetensors(path, tensors, metadata, { checksum: true }).pipe(
      Effect.mapError((e) =>
        new CheckpointError({
          file: path,
          problem: e._tag === "SafetensorsIoError" ? "io" : "encode",
          tensor: e._tag === "SafetensorsEncodeError" ? e.tensor : undefined,
          detail: e.message,
        })
      ),
    );
  });

/** The bytes {@link saveCheckpoint} would write (deterministic). */
export const encodeCheckpoint = (
  contents: CheckpointContents,
): Effect.Effect<Uint8Array, CheckpointError | GpuError> =>
  Effect.gen(function* () {
    const { tensors, metadata } = yield* checkpointTensors("<memory>", contents);
    const encoded = encodeSafetensors(tensors, metadata, { checksum: true });
    if (Result.isFailure(encoded)) {
      return yield* new CheckpointError({
        file: "<memory>",
        problem: "encode",
        tensor: encoded.failure.tensor,
        detail: encoded.failure.message,
      });
    }
    return encoded.success;
  });

/** Interprets a decoded safetensors file as a checkpoint. */
export const checkpointFromFile = (
  path: string,
  file: SafetensorsFile,
): Result.Result<Checkpoint, CheckpointError> => {
  let meta: unknown = undefined;
  let model: DeepLabConfig | undefined = undefined;
  const text = file.metadata[CHECKPOINT_META_KEY];
  if (text !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      return Result.fail(
        new CheckpointError({ file: path, problem: "meta", detail: `gsc metadata: ${e}` }),
      );
    }
    const stored = parsed as Partial<StoredMeta> | null;
    if (typeof stored !== "object" || stored === null || stored.format !== 1) {
      return Result.fail(
        new CheckpointError({
          file: path,
          problem: "meta",
          detail: "gsc metadata is not a format-1 checkpoint record",
        }),
      );
    }
    if (stored.model !== undefined && !isDeepLabConfig(stored.model)) {
      return Result.fail(
        new CheckpointError({ file: path, problem: "meta", detail: "invalid model config" }),
      );
    }
    meta = stored.meta;
    model = stored.model;
  }
  return Result.succeed({
    path,
    tensors: Object.fromEntries(file.tensors),
    storedDtypes: Object.fromEntries(file.storedDtypes),
    meta,
    model,
  });
};

/** Decodes checkpoint bytes; `path` names the file in errors. */
export const decodeCheckpoint = (
  bytes: Uint8Array,
  path: string,
): Result.Result<Checkpoint, CheckpointError> => {
  const decoded = decodeSafetensors(bytes, path);
  if (Result.isFailure(decoded)) {
    const e = decoded.failure;
    return Result.fail(
      e.problem === "checksum"
        ? new CheckpointError({ file: path, problem: "checksum", detail: e.detail })
        : new CheckpointError({ file: path, problem: "format", detail: e.message }),
    );
  }
  return checkpointFromFile(path, decoded.success);
};

/** Reads a checkpoint file. */
export const readCheckpoint = (path: string): Effect.Effect<Checkpoint, CheckpointError> =>
  Effect.tryPromise({
    try: () => Deno.readFile(path),
    catch: (e) =>
      new CheckpointError({
        file: path,
        problem: "io",
        detail: e instanceof Error ? e.message : String(e),
      }),
  }).pipe(Effect.flatMap((bytes) => Effect.fromResult(decodeCheckpoint(bytes, path))));
