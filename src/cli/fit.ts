/**
 * Whether a run's crop and batch size fit the buffers a WebGPU device can
 * bind, checked before anything trains: once against the ceiling of every
 * adapter under Deno's WebGPU (its storage-binding sizes are 32-bit), when
 * the options are parsed, and once against the adapter's own limits, when
 * the device is acquired. Either failure names `--crop` (or `--batch-size`
 * when no crop would fit) and the largest crop that would.
 *
 * @module
 */
import { Effect } from "effect";
import { resolveTask, type RunSetupError } from "../incremental/data.ts";
import {
  type ActivationShape,
  formatBytes,
  largestActivation,
  largestCropWithin,
} from "../incremental/memory.ts";
import type { RunConfig } from "../incremental/types.ts";
import { type CliError, optionError } from "./errors.ts";

/** The largest storage binding Deno's WebGPU (wgpu, 32-bit binding sizes) can ever make. */
export const WGPU_BINDING_CEILING = 2 ** 32 - 1;

/** The activation shape of a run configuration whose task has `classes` classes in all. */
export const activationShape = (
  config: Pick<RunConfig, "backbone" | "outputStride" | "batchSize" | "crop">,
  classes: number,
): ActivationShape => ({
  backbone: config.backbone,
  outputStride: config.outputStride,
  batchSize: config.batchSize,
  crop: config.crop,
  classes,
});

/** The error for a configuration over `limit` bytes (`limitName` says which limit), or undefined. */
export const fitError = (
  shape: ActivationShape,
  limit: number,
  limitName: string,
): CliError | undefined => {
  const need = largestActivation(shape);
  if (need.bytes <= limit) return undefined;
  const head = `one training iteration needs a buffer of ${formatBytes(need.bytes)} ` +
    `(${need.what}), more than ${limitName} (${formatBytes(limit)})`;
  const crop = largestCropWithin(shape, limit);
  if (crop === 0) {
    return optionError(
      "--batch-size",
      `${shape.batchSize}: ${head}, even at the smallest crop (16); lower --batch-size`,
    );
  }
  return optionError(
    "--crop",
    `${shape.crop}: ${head}; at --batch-size ${shape.batchSize} the largest crop that fits is ` +
      `${crop} (lower --crop or --batch-size)`,
  );
};

/** Fails (before training) when the run's buffers exceed the device's binding limits. */
export const checkDeviceFits = (
  config: RunConfig,
  limits: Pick<GPUSupportedLimits, "maxBufferSize" | "maxStorageBufferBindingSize">,
): Effect.Effect<void, CliError | RunSetupError> =>
  Effect.gen(function* () {
    const task = yield* resolveTask(config);
    const [limit, name] = limits.maxStorageBufferBindingSize <= limits.maxBufferSize
      ? [limits.maxStorageBufferBindingSize, "this adapter's maxStorageBufferBindingSize"]
      : [limits.maxBufferSize, "this adapter's maxBufferSize"];
    const error = fitError(activationShape(config, task.steps.flat().length), limit, name);
    if (error !== undefined) return yield* error;
  });
