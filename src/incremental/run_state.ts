/**
 * The run's checkpoints: `step-<t>.safetensors` after every step (the model
 * and the method's state, what the next step's old model loads) and
 * `last.safetensors` after every epoch (plus the optimizer's momentum, the
 * schedule and the progress), from which `--resume` continues. A file whose
 * tensor data fails its checksum is refused with the way back: copy the
 * newest earlier step checkpoint over `last.safetensors` and resume.
 *
 * @module
 */
import { Effect } from "effect";
import type { DeepLabV3 } from "../nn/mod.ts";
import { CheckpointError, readCheckpoint, saveCheckpoint } from "../nn/checkpoint.ts";
import { loadModelWeights } from "../nn/load_weights.ts";
import type { Gpu } from "../gpu/device.ts";
import type { GpuError } from "../gpu/errors.ts";
import type { HostTensor, SgdState } from "../optim/sgd.ts";
import type { MethodState } from "./method.ts";
import type { RunConfig, StepMetrics } from "./types.ts";

/** Where a run stands; stored in every checkpoint's metadata. */
export interface Progress {
  /** The step being trained (or just finished, when `stepDone`). */
  readonly step: number;
  /** Epochs of `step` completed. */
  readonly epochsDone: number;
  /** The step is trained, evaluated and its outputs written. */
  readonly stepDone: boolean;
  /** Optimizer iterations of the step so far (the poly schedule's position). */
  readonly iteration: number;
  /** Metrics of every finished step. */
  readonly metrics: readonly StepMetrics[];
  /** Seconds of training and evaluation per finished step. */
  readonly stepSeconds: readonly number[];
}

/** The metadata of a run checkpoint. */
export interface RunMeta {
  readonly kind: "epoch" | "step";
  readonly config: RunConfig;
  readonly progress: Progress;
  readonly classes: readonly number[];
  readonly optimizer?: Omit<SgdState, "momentumBuffers">;
  readonly method?: unknown;
}

const MOMENTUM_PREFIX = "optimizer.momentum.";
const METHOD_PREFIX = "method.";

/** Paths of a run directory's checkpoints. */
export const checkpointPaths = (out: string) => ({
  dir: `${out}/checkpoints`,
  last: `${out}/checkpoints/last.safetensors`,
  step: (t: number) => `${out}/checkpoints/step-${t}.safetensors`,
});

/** Writes a checkpoint (atomically) with the model, method state and optional optimizer. */
export const writeRunCheckpoint = (
  path: string,
  model: DeepLabV3,
  meta: Omit<RunMeta, "method" | "optimizer">,
  method: MethodState | undefined,
  optimizer: SgdState | undefined,
) =>
  Effect.gen(function* () {
    const extra: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(method?.tensors ?? {})) {
      extra[METHOD_PREFIX + name] = t;
    }
    for (const [name, t] of Object.entries(optimizer?.momentumBuffers ?? {})) {
      extra[MOMENTUM_PREFIX + name] = t;
    }
    const full: RunMeta = {
      ...meta,
      method: method?.json,
      optimizer: optimizer
        ? { steps: optimizer.steps, parameterSteps: optimizer.parameterSteps }
        : undefined,
    };
    yield* saveCheckpoint(path, { model, extraTensors: extra, meta: full });
  });

/** A run checkpoint read back: metadata, method state and optimizer state. */
export interface RunCheckpoint {
  readonly path: string;
  readonly meta: RunMeta;
  readonly method: MethodState;
  readonly optimizer: SgdState | undefined;
  /** Loads the model weights into `model` (checks names, shapes, dtypes). */
  readonly loadInto: (model: DeepLabV3) => Effect.Effect<void, GpuError | CheckpointError, Gpu>;
}

const STEP_FILE = /^step-(\d+)\.safetensors$/;

/**
 * How to go on when the run checkpoint `path` is damaged: from the newest
 * step checkpoint before it (resuming from a copy of `step-<k>` evaluates
 * step k again and retrains the steps after it).
 */
export const recoveryHint = (path: string): string => {
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "." : path.slice(0, slash);
  const base = path.slice(slash + 1);
  const damagedStep = STEP_FILE.exec(base);
  const before = damagedStep ? Number(damagedStep[1]) : Infinity;
  let newest = -1;
  try {
    for (const entry of Deno.readDirSync(dir)) {
      const k = Number(STEP_FILE.exec(entry.name)?.[1] ?? -1);
      if (k < before && k > newest) newest = k;
    }
  } catch {
    // An unreadable directory leaves no step to name.
  }
  if (newest < 0) {
    return "no earlier step checkpoint is left: start the run again (another --out, or delete " +
      "this run directory)";
  }
  return `to go on from the last finished step, copy ${dir}/step-${newest}.safetensors over ` +
    `${dir}/last.safetensors and run again with --resume (step ${newest} is evaluated again, ` +
    `the steps after it are retrained)`;
};

/** Reads a run checkpoint; a damaged one fails with {@link recoveryHint} in its message. */
export const readRunCheckpoint = (path: string) =>
  Effect.gen(function* () {
    const checkpoint = yield* readCheckpoint(path).pipe(
      Effect.mapError((e) =>
        e.problem === "checksum"
          ? new CheckpointError({
            file: e.file,
            problem: e.problem,
            detail: `${e.detail}; ${recoveryHint(path)}`,
          })
          : e
      ),
    );
    const meta = checkpoint.meta as RunMeta;
    const methodTensors: Record<string, HostTensor> = {};
    const momentum: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(checkpoint.tensors)) {
      const extra = name.startsWith(METHOD_PREFIX) || name.startsWith(MOMENTUM_PREFIX);
      if (!extra || t.dtype !== "F32") continue;
      const host = { shape: [...t.shape], data: t.data as Float32Array };
      if (name.startsWith(METHOD_PREFIX)) methodTensors[name.slice(METHOD_PREFIX.length)] = host;
      else momentum[name.slice(MOMENTUM_PREFIX.length)] = host;
    }
    return {
      path,
      meta,
      method: { tensors: methodTensors, json: meta.method },
      optimizer: meta.optimizer ? { ...meta.optimizer, momentumBuffers: momentum } : undefined,
      loadInto: (model: DeepLabV3) =>
        loadModelWeights(model, checkpoint, {
          ignore: (name: string) =>
            name.startsWith(METHOD_PREFIX) || name.startsWith(MOMENTUM_PREFIX),
        }),
    } satisfies RunCheckpoint;
  });
