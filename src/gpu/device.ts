/**
 * The GPU as an Effect service: adapter and device acquired in a scoped
 * layer and destroyed when the scope closes, with the buffer pool, pipeline
 * cache and command recorder that every op uses.
 *
 * @module
 */
import { Context, Effect, Layer } from "effect";
import { NoAdapterError } from "./errors.ts";
import { PipelineCache } from "./pipelines.ts";
import { BufferPool } from "./pool.ts";
import { CommandRecorder } from "./recorder.ts";

/** What the adapter says about itself; printed by benchmarks and the CLI. */
export interface AdapterReport {
  readonly vendor: string;
  readonly architecture: string;
  readonly description: string;
  /** True for software adapters such as Mesa's llvmpipe. */
  readonly isFallback: boolean;
}

/** The GPU service: one device and the machinery around it. */
export interface GpuShape {
  readonly device: GPUDevice;
  readonly adapter: AdapterReport;
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  readonly recorder: CommandRecorder;
}

/** Options for acquiring the device. */
export interface GpuOptions {
  readonly powerPreference?: GPUPowerPreference;
  /** Ask for the fallback (software) adapter. */
  readonly forceFallbackAdapter?: boolean;
  /** Fail unless the adapter is a GPU (`gpu`) or a CPU one (`cpu`). */
  readonly require?: "gpu" | "cpu";
}

/** The adapters a user can ask for: whatever WebGPU offers first, a GPU, or the CPU one. */
export const ADAPTER_CHOICES = ["auto", "gpu", "cpu"] as const;

/** One of {@link ADAPTER_CHOICES}. */
export type AdapterChoice = (typeof ADAPTER_CHOICES)[number];

/** The acquisition options of an adapter choice. */
export const adapterOptions = (choice: AdapterChoice): GpuOptions =>
  choice === "gpu"
    ? { powerPreference: "high-performance", require: "gpu" }
    : choice === "cpu"
    ? { forceFallbackAdapter: true, require: "cpu" }
    : {};

/** Human-readable one-line name of an adapter. */
export const describeAdapter = (report: AdapterReport): string =>
  [
    report.description || "unknown adapter",
    report.vendor && `vendor ${report.vendor}`,
    report.architecture,
    report.isFallback ? "fallback" : "",
  ]
    .filter((part) => part).join(", ");

// Limits worth raising to the adapter's maximum: large activations and many bindings.
const RAISED_LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
] as const;

const acquireDevice = (options: GpuOptions) =>
  Effect.gen(function* () {
    const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
    if (!gpu) {
      return yield* new NoAdapterError({
        reason: "navigator.gpu is not available in this runtime",
      });
    }
    const adapter = yield* Effect.tryPromise({
      try: () =>
        gpu.requestAdapter({
          ...(options.powerPreference ? { powerPreference: options.powerPreference } : {}),
          ...(options.forceFallbackAdapter ? { forceFallbackAdapter: true } : {}),
        }),
      catch: (e) => new NoAdapterError({ reason: `requestAdapter failed: ${String(e)}` }),
    });
    if (!adapter) {
      return yield* new NoAdapterError({
        reason: options.require === "cpu"
          ? "the CPU adapter was asked for, and WebGPU offers none (Mesa's llvmpipe or lavapipe " +
            "provides one)"
          : "requestAdapter returned no adapter",
      });
    }
    const report = adapterReport(adapter);
    if (options.require === "gpu" && report.isFallback) {
      return yield* new NoAdapterError({
        reason: `a GPU was asked for, and WebGPU offers only ${describeAdapter(report)}, a CPU ` +
          "adapter (is the GPU's Vulkan driver and loader installed? docs/device.md)",
      });
    }
    if (options.require === "cpu" && !report.isFallback) {
      return yield* new NoAdapterError({
        reason: `the CPU adapter was asked for, and WebGPU offers ${describeAdapter(report)} ` +
          "(Mesa's llvmpipe or lavapipe provides one)",
      });
    }
    const requiredLimits: Record<string, number> = {};
    for (const name of RAISED_LIMITS) requiredLimits[name] = adapter.limits[name];
    const requiredFeatures = adapter.features.has("timestamp-query")
      ? (["timestamp-query"] as GPUFeatureName[])
      : [];
    const device = yield* Effect.tryPromise({
      try: () => adapter.requestDevice({ requiredLimits, requiredFeatures }),
      catch: (e) => new NoAdapterError({ reason: `requestDevice failed: ${String(e)}` }),
    });
    return { device, report };
  });

/** What `adapter` says about itself. */
const adapterReport = (adapter: GPUAdapter): AdapterReport => {
  const info = adapter.info;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    description: info.description || info.device,
    isFallback: (info as { isFallbackAdapter?: boolean }).isFallbackAdapter ??
      (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
  };
};

/** The GPU service tag. Provide it with {@link Gpu.layer} (or `Gpu.layerWith`). */
export class Gpu extends Context.Service<Gpu, GpuShape>()("gsc-webgpu/Gpu") {
  /** A scoped layer with the default adapter. */
  static readonly layer: Layer.Layer<Gpu, NoAdapterError> = Layer.effect(
    Gpu,
    makeGpu({}),
  );

  /** A scoped layer with adapter options. */
  static layerWith(options: GpuOptions): Layer.Layer<Gpu, NoAdapterError> {
    return Layer.effect(Gpu, makeGpu(options));
  }

  /** A scoped layer with the adapter a user chose (`--adapter`). */
  static layerFor(choice: AdapterChoice): Layer.Layer<Gpu, NoAdapterError> {
    return Gpu.layerWith(adapterOptions(choice));
  }
}

function makeGpu(options: GpuOptions) {
  return Effect.gen(function* () {
    const { device, report } = yield* Effect.acquireRelease(
      acquireDevice(options),
      ({ device }) => Effect.sync(() => device.destroy()),
    );
    let lost: GPUDeviceLostInfo | undefined;
    device.lost.then((info) => {
      lost = info;
    });
    const pool = new BufferPool(device);
    const pipelines = new PipelineCache(device);
    const recorder = new CommandRecorder(device, pool, pipelines, () => lost);
    return { device, adapter: report, pool, pipelines, recorder } satisfies GpuShape;
  });
}
