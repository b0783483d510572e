/**
 * The messages between the loader's pool (`loader_pool.ts`) and its workers
 * (`loader_worker.ts`), and the errors carried in them: a sample's tagged
 * error crosses as its tag and fields and is rebuilt as the same class, so a
 * bad file is reported the same way from a worker as from the main thread.
 *
 * @module
 */
import type { BatchPlan } from "./batch_build.ts";
import type { Batch } from "./batch_build.ts";
import {
  CorruptFileError,
  LabelOutOfRangeError,
  MissingSampleFileError,
  type SampleError,
  SizeMismatchError,
} from "./errors.ts";

/** Main thread to worker. */
export type LoaderRequest =
  | {
    readonly kind: "plan";
    readonly loader: number;
    readonly plan: BatchPlan;
    readonly shuffle: boolean;
  }
  | { readonly kind: "forget"; readonly loader: number }
  | {
    readonly kind: "build";
    readonly request: number;
    readonly loader: number;
    readonly epoch: number;
    readonly index: number;
  };

/** An error as it crosses: a sample error's tag and fields, or any other error's name and message. */
export type WireError =
  | { readonly tag: SampleError["_tag"]; readonly fields: Record<string, unknown> }
  | { readonly tag?: undefined; readonly name: string; readonly message: string };

/** Worker to main thread: a built batch (its arrays transferred) or the error that stopped it. */
export interface LoaderReply {
  readonly request: number;
  readonly batch?: Batch;
  readonly error?: WireError;
  /** Samples left out of the batch under `skipBad`. */
  readonly skipped: readonly { readonly name: string; readonly error: WireError }[];
}

const sampleErrors = {
  MissingSampleFileError,
  CorruptFileError,
  SizeMismatchError,
  LabelOutOfRangeError,
} as const;

/** An error in a form a message can carry. */
export const toWire = (error: unknown): WireError => {
  const tag = (error as { _tag?: unknown })?._tag;
  if (typeof tag === "string" && tag in sampleErrors) {
    const fields: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(error as object)) {
      if (key !== "_tag") fields[key] = value;
    }
    return { tag: tag as SampleError["_tag"], fields };
  }
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: "Error", message: String(error) };
};

/** The error a {@link WireError} stands for. */
export const fromWire = (wire: WireError): SampleError | Error => {
  if (wire.tag !== undefined) {
    return new sampleErrors[wire.tag](wire.fields as never);
  }
  const error = wire.name === "RangeError" ? new RangeError(wire.message) : new Error(wire.message);
  if (wire.name !== "RangeError") error.name = wire.name;
  return error;
};
