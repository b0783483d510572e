/**
 * Loading weights into a model: a checkpoint of this project or converted
 * torchvision weights (DeepLabV3 or an ImageNet ResNet), every expected name,
 * shape and dtype checked before anything is written (see checkpoint.ts for
 * the file format).
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import type { Gpu } from "../gpu/device.ts";
import type { GpuError } from "../gpu/errors.ts";
import type { StoredDType } from "../io/safetensors.ts";
import {
  type Checkpoint,
  CheckpointError,
  type CheckpointProblem,
  nonFiniteElement,
  readCheckpoint,
} from "./checkpoint.ts";
import { type DeepLabConfig, type DeepLabV3, makeDeepLabV3 } from "./mod.ts";

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
        const bad = nonFiniteElement(t);
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
