/**
 * Compiles kernels into compute pipelines once per (kernel, constants) and
 * caches them. Compilation errors come back as {@link ShaderCompileError}
 * with the line and column in the kernel's own WGSL file.
 *
 * @module
 */
import { Effect } from "effect";
import { GpuValidationError, ShaderCompileError, type ShaderDiagnostic } from "./errors.ts";
import { type Kernel, kernelHeader } from "./kernel.ts";

/** A compiled kernel variant. */
export interface CompiledKernel {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

const cacheKey = (kernel: Kernel, constants: Record<string, number>): string => {
  const names = Object.keys(kernel.constants);
  return names.length === 0
    ? kernel.name
    : `${kernel.name}|${names.map((n) => `${n}=${constants[n]}`).join(",")}`;
};

/** The per-device pipeline cache. */
export class PipelineCache {
  readonly #device: GPUDevice;
  readonly #compiled = new Map<string, CompiledKernel>();
  readonly #kernelIds = new WeakMap<Kernel, number>();
  #nextId = 0;

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** Number of pipelines compiled so far. */
  get size(): number {
    return this.#compiled.size;
  }

  /** Cached pipeline for the kernel variant, if it was compiled already. */
  lookup(kernel: Kernel, constants: Record<string, number>): CompiledKernel | undefined {
    return this.#compiled.get(this.#key(kernel, constants));
  }

  /** Compiles (or returns the cached) pipeline for a kernel variant. */
  get(
    kernel: Kernel,
    constants: Record<string, number>,
  ): Effect.Effect<CompiledKernel, ShaderCompileError | GpuValidationError> {
    const key = this.#key(kernel, constants);
    const hit = this.#compiled.get(key);
    if (hit) return Effect.succeed(hit);
    return this.#compile(kernel, constants).pipe(
      Effect.tap((compiled) => Effect.sync(() => this.#compiled.set(key, compiled))),
    );
  }

  // Two kernels may share a name by accident; identity keeps their pipelines apart.
  #key(kernel: Kernel, constants: Record<string, number>): string {
    let id = this.#kernelIds.get(kernel);
    if (id === undefined) {
      id = this.#nextId++;
      this.#kernelIds.set(kernel, id);
    }
    return `${id}:${cacheKey(kernel, constants)}`;
  }

  #compile(
    kernel: Kernel,
    constants: Record<string, number>,
  ): Effect.Effect<CompiledKernel, ShaderCompileError | GpuValidationError> {
    const device = this.#device;
    return Effect.gen(function* () {
      const header = kernelHeader(kernel, constants);
      device.pushErrorScope("validation");
      const module = device.createShaderModule({
        label: kernel.name,
        code: header.text + kernel.source,
      });
      const info = yield* Effect.promise(() => module.getCompilationInfo());
      yield* Effect.promise(() => device.popErrorScope());
      const diagnostics: ShaderDiagnostic[] = info.messages
        .filter((m) => m.type === "error")
        .map((m) => ({
          message: m.message.trim(),
          line: m.lineNum - header.lines,
          column: m.linePos,
        }));
      if (diagnostics.length > 0) {
        const first = diagnostics[0];
        return yield* new ShaderCompileError({
          kernel: kernel.name,
          line: first.line,
          column: first.column,
          message: `${kernel.name}:${first.line}:${first.column}: ${firstLine(first.message)}`,
          diagnostics,
        });
      }
      device.pushErrorScope("validation");
      // An explicit layout from the declarations: a binding the WGSL body does not
      // use stays bindable, which "auto" layouts would reject.
      const layout = device.createBindGroupLayout({
        label: kernel.name,
        entries: bindGroupEntries(kernel),
      });
      const pipeline = device.createComputePipeline({
        label: kernel.name,
        layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: "main" },
      });
      const error = yield* Effect.promise(() => device.popErrorScope());
      if (error) {
        return yield* new GpuValidationError({
          operation: `createComputePipeline(${kernel.name})`,
          message: error.message,
        });
      }
      return { pipeline, layout };
    });
  }
}

const firstLine = (message: string): string =>
  message.split("\n").map((l) => l.trim()).find((l) => l.length > 0) ?? message;

const bindGroupEntries = (kernel: Kernel): GPUBindGroupLayoutEntry[] => {
  const specs = Object.values(kernel.bindings);
  const storage = specs.map((spec, binding): GPUBindGroupLayoutEntry =>
    spec.via === "texture"
      ? {
        binding,
        visibility: GPUShaderStage.COMPUTE,
        texture: { sampleType: "unfilterable-float", viewDimension: "2d" },
      }
      : {
        binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: {
          type: spec.via === "uniform"
            ? "uniform"
            : spec.access === "read"
            ? "read-only-storage"
            : "storage",
        },
      }
  );
  return [
    ...storage,
    // The parameters sit at a different offset of a uniform chunk at each
    // dispatch: a dynamic offset keeps that out of the bind group, so a
    // dispatch of the same tensors reuses its group (the recorder's cache).
    {
      binding: specs.length,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type: "uniform", hasDynamicOffset: true },
    },
  ];
};
