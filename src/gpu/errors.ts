/**
 * Tagged errors of the GPU layer. Every WebGPU failure is mapped to one of
 * these, so callers can `Effect.catchTag` on exactly the failure they handle.
 *
 * @module
 */
import { Data } from "effect";

/** No WebGPU adapter (or no `navigator.gpu`) is available in this runtime. */
export class NoAdapterError extends Data.TaggedError("NoAdapterError")<{
  readonly reason: string;
}> {
  override get message(): string {
    return `no WebGPU adapter: ${this.reason}`;
  }
}

/** The device was lost (driver reset, destroyed, out of resources). */
export class DeviceLostError extends Data.TaggedError("DeviceLostError")<{
  readonly reason: string;
  readonly message: string;
}> {}

/** One diagnostic of a WGSL compilation, positioned in the kernel's own file. */
export interface ShaderDiagnostic {
  readonly message: string;
  readonly line: number;
  readonly column: number;
}

/** A kernel's WGSL failed to compile; `line`/`column` point into its source file. */
export class ShaderCompileError extends Data.TaggedError("ShaderCompileError")<{
  readonly kernel: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
  readonly diagnostics: readonly ShaderDiagnostic[];
}> {}

/** WebGPU reported a validation error (a bug in how we drive the API). */
export class GpuValidationError extends Data.TaggedError("GpuValidationError")<{
  readonly operation: string;
  readonly message: string;
}> {}

/** A buffer allocation failed because the device ran out of memory or limits. */
export class OutOfMemoryError extends Data.TaggedError("OutOfMemoryError")<{
  readonly bytes: number;
  readonly message: string;
}> {}

/** A tensor given to a kernel does not fit the binding it is bound to. */
export class BindingError extends Data.TaggedError("BindingError")<{
  readonly kernel: string;
  readonly binding: string;
  readonly reason: string;
}> {
  override get message(): string {
    return `${this.kernel}: binding ${this.binding}: ${this.reason}`;
  }
}

/** Any failure of the GPU layer. */
export type GpuError =
  | NoAdapterError
  | DeviceLostError
  | ShaderCompileError
  | GpuValidationError
  | OutOfMemoryError
  | BindingError;
