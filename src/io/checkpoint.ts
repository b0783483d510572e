/**
 * Model checkpoints as safetensors: the model's state dict under
 * torchvision's names and layout (conv weights OIHW, BN buffers, I64
 * `num_batches_tracked`), so torchvision's `load_state_dict` accepts it;
 * extra tensors under caller-chosen prefixes; extra state as JSON in the
 * `__metadata__` entry `gsc`. Loading checks every name, shape and dtype and
 * names the file and the tensor that is wrong.
 *
 * @module
 */
import { Data, Effect } from "effect";
import type { DeepLabV3 } from "../nn/deeplab.ts";
import type { HostTensor } from "../optim/sgd.ts";
import { download, upload } from "../tensor/tensor.ts";
import { readSafetensors, type SafetensorsTensor, writeSafetensors } from "./safetensors.ts";

/** A checkpoint does not fit the model (or its metadata is unreadable). */
export class CheckpointError extends Data.TaggedError("CheckpointError")<{
  readonly file: string;
  readonly tensor?: string;
  readonly problem: string;
}> {
  override get message(): string {
    return `${this.file}: ${this.tensor ? `tensor ${this.tensor}: ` : ""}${this.problem}`;
  }
}

/** A checkpoint read back. */
export interface Checkpoint {
  readonly path: string;
  readonly tensors: ReadonlyMap<string, SafetensorsTensor>;
  /** The caller's JSON state (undefined for files from other tools). */
  readonly meta: unknown;
}

const META_KEY = "gsc";

/** HWIO [kh, kw, i, o] -> OIHW [o, i, kh, kw]. */
export const hwioToOihw = (data: Float32Array, shape: readonly number[]): Float32Array => {
  const [kh, kw, ci, co] = shape;
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < ci; i++) {
        for (let o = 0; o < co; o++) {
          out[((o * ci + i) * kh + y) * kw + x] = data[((y * kw + x) * ci + i) * co + o];
        }
      }
    }
  }
  return out;
};

/** OIHW [o, i, kh, kw] -> HWIO [kh, kw, i, o]. */
export const oihwToHwio = (data: Float32Array, oihw: readonly number[]): Float32Array => {
  const [co, ci, kh, kw] = oihw;
  const out = new Float32Array(data.length);
  for (let o = 0; o < co; o++) {
    for (let i = 0; i < ci; i++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          out[((y * kw + x) * ci + i) * co + o] = data[((o * ci + i) * kh + y) * kw + x];
        }
      }
    }
  }
  return out;
};

/** The state dict of a model, in torchvision's layout, read back from the GPU. */
export const modelStateDict = (model: DeepLabV3) =>
  Effect.gen(function* () {
    const out: Record<string, SafetensorsTensor> = {};
    const store = model.store;
    for (const [name, tensor] of store.tensors()) {
      const data = yield* download(tensor);
      if (store.convWeights.has(name)) {
        const [kh, kw, ci, co] = tensor.shape;
        out[name] = { dtype: "F32", shape: [co, ci, kh, kw], data: hwioToOihw(data, tensor.shape) };
      } else out[name] = { dtype: "F32", shape: [...tensor.shape], data };
    }
    for (const [name, bn] of store.norms) {
      out[`${name}.num_batches_tracked`] = {
        dtype: "I64",
        shape: [],
        data: BigInt64Array.of(BigInt(bn.batchesTracked)),
      };
    }
    return out;
  });

/** Writes a checkpoint atomically (temp file, fsync, rename). */
export const saveCheckpoint = (
  path: string,
  contents: {
    readonly model: DeepLabV3;
    readonly extraTensors?: Readonly<Record<string, HostTensor>>;
    readonly meta?: unknown;
  },
) =>
  Effect.gen(function* () {
    const tensors = yield* modelStateDict(contents.model);
    for (const [name, t] of Object.entries(contents.extraTensors ?? {})) {
      tensors[name] = { dtype: "F32", shape: [...t.shape], data: t.data };
    }
    const metadata: Record<string, string> = { format: "pt" };
    if (contents.meta !== undefined) metadata[META_KEY] = JSON.stringify(contents.meta);
    yield* writeSafetensors(path, tensors, metadata);
  });

/** Reads a checkpoint; a malformed file fails with the safetensors error naming it. */
export const readCheckpoint = (path: string) =>
  Effect.gen(function* () {
    const file = yield* readSafetensors(path);
    let meta: unknown = undefined;
    const text = file.metadata[META_KEY];
    if (text !== undefined) {
      try {
        meta = JSON.parse(text);
      } catch (e) {
        return yield* new CheckpointError({
          file: path,
          problem: `metadata entry "${META_KEY}" is not valid JSON (${(e as Error).message})`,
        });
      }
    }
    return { path, tensors: file.tensors, meta } satisfies Checkpoint;
  });

/** Options of {@link loadModelWeights}. */
export interface LoadOptions {
  /** Names in the file that are not model weights (skipped, not reported). */
  readonly ignore?: (name: string) => boolean;
  /** Model tensors that may be absent from the file (they keep their values). */
  readonly allowMissing?: (name: string) => boolean;
  /** Maps a model tensor name to its name in the file (default: identity). */
  readonly fileName?: (name: string) => string;
}

const shapeText = (shape: readonly number[]) => `[${shape.join(", ")}]`;

/**
 * Loads a checkpoint's tensors into `model`. Every model tensor must be
 * present (unless allowed missing) with the right shape and dtype F32, and
 * every file tensor must belong to the model (unless ignored); nothing is
 * uploaded unless all checks pass.
 */
export const loadModelWeights = (
  model: DeepLabV3,
  checkpoint: Checkpoint,
  options: LoadOptions = {},
) =>
  Effect.gen(function* () {
    const file = checkpoint.path;
    const store = model.store;
    const fileName = options.fileName ?? ((n: string) => n);
    const uploads: [import("../tensor/tensor.ts").Tensor<"f32">, Float32Array][] = [];
    const used = new Set<string>();
    for (const [name, tensor] of store.tensors()) {
      const stored = checkpoint.tensors.get(fileName(name));
      if (!stored) {
        if (options.allowMissing?.(name)) continue;
        return yield* new CheckpointError({ file, tensor: fileName(name), problem: "missing" });
      }
      used.add(fileName(name));
      const isConv = store.convWeights.has(name);
      const [kh, kw, ci, co] = tensor.shape;
      const expected = isConv ? [co, ci, kh, kw] : tensor.shape;
      if (stored.dtype !== "F32") {
        return yield* new CheckpointError({
          file,
          tensor: fileName(name),
          problem: `dtype ${stored.dtype}, expected F32`,
        });
      }
      if (shapeText(stored.shape) !== shapeText(expected)) {
        return yield* new CheckpointError({
          file,
          tensor: fileName(name),
          problem: `shape ${shapeText(stored.shape)}, the model expects ${shapeText(expected)}`,
        });
      }
      const data = stored.data as Float32Array;
      uploads.push([tensor, isConv ? oihwToHwio(data, expected) : data]);
    }
    for (const name of checkpoint.tensors.keys()) {
      if (used.has(name) || options.ignore?.(name) || name.endsWith(".num_batches_tracked")) {
        continue;
      }
      return yield* new CheckpointError({
        file,
        tensor: name,
        problem: "not a tensor of this model (a different backbone or head?)",
      });
    }
    for (const [tensor, data] of uploads) yield* upload(tensor, data);
    for (const [name, bn] of store.norms) {
      const tracked = checkpoint.tensors.get(fileName(`${name}.num_batches_tracked`));
      if (tracked && tracked.shape.length === 0 && tracked.data.length === 1) {
        bn.batchesTracked = Number(tracked.data[0]);
      }
    }
  });

/**
 * Loads pretrained weights: a whole-model checkpoint, or a torchvision
 * ImageNet ResNet (names without `backbone.`, with `fc.*`) into the backbone.
 */
export const loadPretrained = (model: DeepLabV3, path: string) =>
  Effect.gen(function* () {
    const checkpoint = yield* readCheckpoint(path);
    const imagenet = checkpoint.tensors.has("conv1.weight") && checkpoint.tensors.has("fc.weight");
    if (imagenet) {
      yield* loadModelWeights(model, checkpoint, {
        fileName: (n) => n.startsWith("backbone.") ? n.slice("backbone.".length) : n,
        allowMissing: (n) => !n.startsWith("backbone."),
        ignore: (n) => n.startsWith("fc."),
      });
    } else {
      yield* loadModelWeights(model, checkpoint, {
        // A checkpoint with another class count still gives the backbone and the ASPP.
        allowMissing: (n) => n.startsWith("classifier.4."),
        ignore: (n) => n.startsWith("classifier.4.") || n.startsWith("aux_classifier."),
      });
    }
  });
