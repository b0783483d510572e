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
import { Data, Effect, Result, type Scope } from "effect";
import type { Gpu } from "../gpu/device.ts";
import type { GpuError } from "../gpu/errors.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  type SafetensorsFile,
  type SafetensorsTensor,
  type StoredDType,
  writeSafetensors,
} from "../io/safetensors.ts";
import { type DeepLabConfig, type DeepLabV3, isDeepLabConfig, makeDeepLabV3 } from "./mod.ts";
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
const nonFinite = (t: SafetensorsTensor): { index: number; value: number } | undefined => {
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
      const bad = nonFinite(t);
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

/** Where the tensors of a file come from, which decides their names. */
export type CheckpointSource = "auto" | "deeplab" | "resnet-imagenet";

/** Options of {@link loadModelWeights}. */
export interface LoadOptions {
  /** Names the file in errors (default: the checkpoint's path). */
  readonly path?: string;
  /** Model tensors that may be absent from the file (they keep their values). */
  readonly allowMissing?: (name: string) => boolean;
  /** File tensors that are not the model's and are skipped (extras under a prefix). */
  readonly ignore?: (name: string) => boolean;
  /**
   * "deeplab": torchvision DeepLabV3 names (`backbone.*`, `classifier.*`;
   * `aux_classifier.*` is skipped). "resnet-imagenet": a torchvision ResNet
   * classification state dict (names without `backbone.`, `fc.*` skipped),
   * loaded into the backbone with the head left as is. "auto" (default):
   * ResNet when the file has `conv1.weight` and no `backbone.` names.
   */
  readonly source?: CheckpointSource;
}

const FLOAT_DTYPES: readonly StoredDType[] = ["F32"];
const COUNT_DTYPES: readonly StoredDType[] = ["I64", "I32"];

const detectSource = (checkpoint: Checkpoint): "deeplab" | "resnet-imagenet" => {
  const names = Object.keys(checkpoint.tensors);
  const isResNet = "conv1.weight" in checkpoint.tensors &&
    !names.some((n) => n.startsWith("backbone."));
  return isResNet ? "resnet-imagenet" : "deeplab";
};

/**
 * Loads the model's weights from a checkpoint: every expected tensor must be
 * present (unless allowed missing) with the model's shape and dtype and hold
 * only finite values, and every tensor of the file must be the model's
 * (unless ignored). Nothing is written unless everything checks out.
 */
export const loadModelWeights = (
  model: DeepLabV3,
  checkpoint: Checkpoint,
  options: LoadOptions = {},
): Effect.Effect<void, CheckpointError | GpuError> =>
  Effect.gen(function* () {
    const file = options.path ?? checkpoint.path;
    const source = options.source === undefined || options.source === "auto"
      ? detectSource(checkpoint)
      : options.source;
    const fail = (problem: CheckpointProblem, tensor: string, detail: string) =>
      new CheckpointError({ file, problem, tensor, detail });
    // File name -> model name (undefined: skipped).
    const modelName = (name: string): string | undefined => {
      if (options.ignore?.(name)) return undefined;
      if (source === "resnet-imagenet") {
        return name.startsWith("fc.") ? undefined : `backbone.${name}`;
      }
      return name.startsWith("aux_classifier.") ? undefined : name;
    };
    const byModelName = new Map<string, string>();
    for (const name of Object.keys(checkpoint.tensors)) {
      const mapped = modelName(name);
      if (mapped !== undefined) byModelName.set(mapped, name);
    }
    const entries = model.stateEntries();
    const known = new Set(entries.map((e) => e.name));
    for (const [mapped, name] of byModelName) {
      if (!known.has(mapped)) {
        return yield* fail("unexpected", name, `the model has no tensor ${mapped}`);
      }
    }
    const values = new Map<string, Float32Array | number>();
    for (const e of entries) {
      const name = byModelName.get(e.name);
      if (name === undefined) {
        const optional = options.allowMissing?.(e.name) ||
          (source === "resnet-imagenet" && !e.name.startsWith("backbone."));
        if (optional) continue;
        return yield* fail("missing", e.name, "the model's tensor is not in the file");
      }
      const t = checkpoint.tensors[name];
      const stored = checkpoint.storedDtypes[name] ?? t.dtype;
      const allowed = e.kind === "count" ? COUNT_DTYPES : FLOAT_DTYPES;
      if (!allowed.includes(stored)) {
        return yield* fail(
          "dtype",
          name,
          `expected ${allowed.join(" or ")}, the file has ${stored}`,
        );
      }
      const expected = e.torchShape();
      const same = t.shape.length === expected.length && t.shape.every((n, i) => n === expected[i]);
      if (!same) {
        return yield* fail("shape", name, `expected [${expected}], the file has [${t.shape}]`);
      }
      if (e.kind === "count") {
        const count = Number(t.data[0]);
        if (!Number.isSafeInteger(count) || count < 0) {
          return yield* fail("dtype", name, `counter ${t.data[0]} is not a non-negative integer`);
        }
        values.set(e.name, count);
      } else {
        const bad = nonFinite(t);
        if (bad) {
          return yield* fail(
            "non-finite",
            name,
            `element ${bad.index} is ${bad.value}: the weights diverged before this file was written`,
          );
        }
        values.set(e.name, t.data as Float32Array);
      }
    }
    yield* model.assign(values);
  });

/**
 * Loads pretrained weights for step 0: a torchvision ResNet ImageNet file
 * into the backbone, or a DeepLabV3 file into the whole model, except a
 * classifier with another number of rows, which keeps its initialisation.
 */
export const loadPretrained = (
  model: DeepLabV3,
  path: string,
): Effect.Effect<void, CheckpointError | GpuError> =>
  Effect.gen(function* () {
    const checkpoint = yield* readCheckpoint(path);
    const bias = checkpoint.tensors["classifier.4.bias"];
    const otherRows = bias !== undefined && bias.shape[0] !== model.numClasses;
    const isClassifier = (name: string) => name.startsWith("classifier.4.");
    yield* loadModelWeights(model, checkpoint, {
      allowMissing: otherRows ? isClassifier : undefined,
      ignore: otherRows ? isClassifier : undefined,
    });
  });

/** Options of {@link modelFromCheckpoint}. */
export interface ModelFromCheckpointOptions {
  /** The configuration; default: the one stored in the checkpoint. */
  readonly config?: DeepLabConfig;
  readonly trainable?: boolean;
  readonly scope: Scope.Scope;
  /** Skipped file tensors (extras), as in {@link loadModelWeights}. */
  readonly ignore?: (name: string) => boolean;
}

/**
 * Builds a model whose classifier has as many rows as the checkpoint's
 * (`classifier.4.bias`) and loads the checkpoint into it.
 */
export const modelFromCheckpoint = (
  checkpoint: Checkpoint,
  options: ModelFromCheckpointOptions,
): Effect.Effect<DeepLabV3, CheckpointError | GpuError, Gpu> =>
  Effect.gen(function* () {
    const base = options.config ?? checkpoint.model;
    if (base === undefined) {
      return yield* new CheckpointError({
        file: checkpoint.path,
        problem: "meta",
        detail: "no model configuration stored; pass one",
      });
    }
    const bias = checkpoint.tensors["classifier.4.bias"];
    if (bias === undefined || bias.shape.length !== 1) {
      return yield* new CheckpointError({
        file: checkpoint.path,
        problem: "missing",
        tensor: "classifier.4.bias",
        detail: "the classifier's bias gives its rows",
      });
    }
    const model = yield* makeDeepLabV3({ ...base, numClasses: bias.shape[0] }, {
      seed: 0,
      trainable: options.trainable,
      scope: options.scope,
    });
    yield* loadModelWeights(model, checkpoint, { ignore: options.ignore });
    return model;
  });
