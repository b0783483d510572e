/**
 * The poisoned pool, a test mode (`GSC_POOL_POISON=1`): every tensor buffer
 * is filled with a quiet NaN (a payload of its own) when handed out, gets
 * poisoned slack past its end and is bound whole. An output element a kernel leaves unwritten, or a
 * small read past an input, then shows up as NaN on every machine instead of
 * as whatever that machine's memory or bounds clamping gives; a write past a
 * tensor's end changes its slack, which is checked when the tensor is
 * released and reported by {@link takeOutOfBoundsWrites}.
 *
 * @module
 */
import { Effect } from "effect";
import canarySource from "../../shaders/gpu/canary.wgsl" with { type: "text" };
import fillSource from "../../shaders/gpu/poison_fill.wgsl" with { type: "text" };
import { Gpu } from "./device.ts";
import type { GpuError } from "./errors.ts";
import { defineKernel, linearGrid } from "./kernel.ts";
import { poolPoisoned } from "./poison_mode.ts";

export { POISON_SLACK_BYTES, poolPoisoned, setPoolPoisoned } from "./poison_mode.ts";

/** The f32 quiet-NaN bits; the poison sets a payload in the low 22 bits. */
const QUIET_NAN = 0x7fc00000;

const WG = 64;

const canaryKernel = defineKernel({
  name: "shaders/gpu/canary.wgsl",
  source: canarySource,
  bindings: {
    data: { access: "read", type: "u32" },
    counts: { access: "read_write", type: "u32", atomic: true },
  },
  params: { first: "u32", count: "u32", pattern: "u32", buffer_bytes: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ count }) => linearGrid(count, WG),
  minElements: ({ first, count }) => ({ data: first + count, counts: 2 }),
});

const fillKernel = defineKernel({
  name: "shaders/gpu/poison_fill.wgsl",
  source: fillSource,
  bindings: { data: { access: "read_write", type: "u32" } },
  params: { n: "u32", pattern: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ n }) => linearGrid(n, WG),
  minElements: ({ n }) => ({ data: n }),
});

let handedOut = 0;

/**
 * The next buffer's poison: a quiet NaN whose payload differs from buffer to
 * buffer (and from the canonical NaN arithmetic makes), so a value a kernel
 * reads past one tensor and writes past another still changes the slack.
 */
export const nextPoison = (): number => {
  handedOut = (handedOut % 0x3fffff) + 1;
  return QUIET_NAN | handedOut;
};

/** Records the fill of all of `buffer` with `pattern`, in recording order. */
export const fillPoison = (
  buffer: GPUBuffer,
  pattern: number,
): Effect.Effect<void, GpuError, Gpu> =>
  Effect.flatMap(Gpu, (gpu) =>
    gpu.recorder.dispatch(fillKernel, {
      data: { buffer, dtype: "u32", elements: buffer.size / 4 },
    }, { n: buffer.size / 4, pattern }));

/** The counter buffer of each device's canary checks. */
const counters = new WeakMap<GPUDevice, GPUBuffer>();

const counterFor = (device: GPUDevice): GPUBuffer => {
  let buffer = counters.get(device);
  if (!buffer) {
    buffer = device.createBuffer({
      size: 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    counters.set(device, buffer);
  }
  return buffer;
};

/**
 * Records the check of a poisoned buffer's slack: the words from
 * `tensorBytes` to the buffer's end must still hold its `pattern` (a write
 * into the 16-byte rounding a plain binding covers counts too: no kernel
 * needs it). A no-op when the pool is not poisoned.
 */
export const checkSlack = (
  buffer: GPUBuffer,
  tensorBytes: number,
  pattern: number,
): Effect.Effect<void, GpuError, Gpu> =>
  Effect.gen(function* () {
    if (!poolPoisoned()) return;
    const first = Math.ceil(tensorBytes / 4);
    const count = buffer.size / 4 - first;
    if (count <= 0) return;
    const gpu = yield* Gpu;
    const counts = counterFor(gpu.device);
    yield* gpu.recorder.dispatch(canaryKernel, {
      data: { buffer, dtype: "u32", elements: buffer.size / 4 },
      counts: { buffer: counts, dtype: "u32", elements: 4 },
    }, { first, count, pattern, buffer_bytes: buffer.size });
  });

/** Out-of-bounds writes found by the slack checks since the last call. */
export interface OutOfBoundsWrites {
  /** Slack words found changed. */
  readonly words: number;
  /** The largest buffer (bytes) among those written past their tensor's end. */
  readonly largestBuffer: number;
}

/**
 * Waits for the recorded work and returns (and resets) what the slack checks
 * counted; zero when the pool is not poisoned.
 */
export const takeOutOfBoundsWrites = (): Effect.Effect<OutOfBoundsWrites, GpuError, Gpu> =>
  Effect.gen(function* () {
    if (!poolPoisoned()) return { words: 0, largestBuffer: 0 };
    const gpu = yield* Gpu;
    const counts = counterFor(gpu.device);
    const staging = gpu.device.createBuffer({
      size: 16,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    gpu.recorder.copy(counts, 0, staging, 0, 16);
    yield* gpu.recorder.upload(counts, 0, new Uint32Array(4));
    yield* gpu.recorder.sync();
    yield* Effect.promise(() => staging.mapAsync(GPUMapMode.READ));
    const [words, largestBuffer] = new Uint32Array(staging.getMappedRange().slice(0));
    staging.destroy();
    return { words, largestBuffer };
  });
