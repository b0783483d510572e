/**
 * Tensors: a GPU buffer from the pool with a shape and a dtype. A tensor's
 * buffer goes back to the pool when the Effect scope that created it closes
 * (or earlier, through {@link release}).
 *
 * @module
 */
import { Context, Effect, Scope } from "effect";
import { Gpu, type GpuShape } from "../gpu/device.ts";
import { type GpuError, GpuValidationError } from "../gpu/errors.ts";
import type { DType } from "../gpu/kernel.ts";
import type { BufferView } from "../gpu/recorder.ts";
import {
  checkSlack,
  fillPoison,
  nextPoison,
  POISON_SLACK_BYTES,
  poolPoisoned,
} from "../gpu/poison.ts";

/** A shape: sizes of each axis, outermost first. */
export type Shape = readonly number[];

/** The typed array holding each dtype on the host. */
export type HostArray<D extends DType = DType> = D extends "f32" ? Float32Array
  : D extends "i32" ? Int32Array
  : Uint32Array;

/** A tensor on the GPU. */
export interface Tensor<D extends DType = DType> extends BufferView {
  readonly shape: Shape;
  readonly dtype: D;
  /** Number of elements (product of the shape). */
  readonly elements: number;
  readonly buffer: GPUBuffer;
}

const STORAGE_USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_SRC |
  GPUBufferUsage.COPY_DST;

/** Number of elements of a shape. */
export const sizeOf = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

/**
 * The lease under which each pooled buffer is currently handed out. A
 * tensor (and every view of it) carries its lease, so releasing it twice,
 * or after its buffer went to a new owner, is a no-op: a stale release must
 * never return a buffer that another tensor now holds.
 */
const leases = new WeakMap<GPUBuffer, object>();
const LEASE = Symbol("lease");

/** The lease a tensor was allocated under (copied into views by object spread). */
const leaseOf = (tensor: Tensor): object | undefined =>
  (tensor as unknown as { [LEASE]?: object })[LEASE];

/**
 * Returns a tensor's buffer to `gpu`'s pool when the returned effect runs
 * (checking its slack first in the poisoned mode); a no-op if the tensor was
 * released already or its buffer has a new owner. Called when the release
 * is due: it acts at once unless poisoned.
 */
const releaseWith = (gpu: GpuShape, tensor: Tensor): Effect.Effect<void> => {
  const lease = leaseOf(tensor);
  if (lease === undefined || leases.get(tensor.buffer) !== lease) return Effect.void;
  leases.delete(tensor.buffer);
  if (!poolPoisoned()) {
    gpu.pool.release(tensor.buffer);
    return Effect.void;
  }
  const { bytes, pattern } = lease as { bytes: number; pattern: number };
  // A failed check is a failed dispatch; the release itself must still happen.
  return Effect.ignore(
    Effect.provideService(checkSlack(tensor.buffer, bytes, pattern), Gpu, gpu),
  ).pipe(Effect.andThen(Effect.sync(() => gpu.pool.release(tensor.buffer))));
};

/** Returns a tensor's buffer to the pool now; later calls (and the scope's) are no-ops. */
export const release = (tensor: Tensor): Effect.Effect<void, never, Gpu> =>
  Effect.withFiber((fiber) =>
    releaseWith(Context.get(fiber.context as Context.Context<Gpu>, Gpu), tensor)
  );

/**
 * An uninitialised tensor, released when the enclosing scope closes.
 *
 * A `small` training step allocates 154 tensors, so this is written against
 * the fiber directly rather than with `Effect.acquireRelease` (15-17 us a
 * tensor and its release there, about 3 here, on a 2-core AMD EPYC): the
 * services are read from the fiber's context and the finalizer closes over the GPU
 * service instead of restoring the whole context when it runs. Acquisition
 * and the finalizer's registration are uninterruptible, as `acquireRelease`
 * makes them.
 */
export const empty = <D extends DType>(
  shape: Shape,
  dtype: D,
): Effect.Effect<Tensor<D>, GpuError, Gpu | Scope.Scope> =>
  Effect.uninterruptible(Effect.withFiber((fiber) => {
    for (const n of shape) {
      if (!Number.isInteger(n) || n < 0) {
        return Effect.fail(
          new GpuValidationError({
            operation: "tensor",
            message: `invalid shape [${shape.join(", ")}]`,
          }),
        );
      }
    }
    const context = fiber.context as Context.Context<Gpu | Scope.Scope>;
    const gpu = Context.get(context, Gpu);
    const scope = Context.get(context, Scope.Scope);
    const elements = sizeOf(shape);
    const poisoned = poolPoisoned();
    const bytes = Math.max(4, elements * 4) + (poisoned ? POISON_SLACK_BYTES : 0);
    const adopt = (buffer: GPUBuffer): Effect.Effect<Tensor<D>, GpuError> => {
      const pattern = poisoned ? nextPoison() : 0;
      const lease = { bytes: elements * 4, pattern };
      leases.set(buffer, lease);
      const tensor = { shape: [...shape], dtype, elements, buffer, [LEASE]: lease } as Tensor<D>;
      const registered = Effect.as(
        Scope.addFinalizer(scope, Effect.suspend(() => releaseWith(gpu, tensor))),
        tensor,
      );
      if (!poisoned) return registered;
      return Effect.andThen(
        registered,
        Effect.as(Effect.provideService(fillPoison(buffer, pattern), Gpu, gpu), tensor),
      );
    };
    return Effect.flatMap(gpu.recorder.acquire(bytes, STORAGE_USAGE), adopt);
  }));

/** A tensor holding `data` (its length must equal the shape's size). */
export const fromArray = <D extends DType>(
  data: HostArray<D> | readonly number[],
  shape: Shape,
  dtype: D,
): Effect.Effect<Tensor<D>, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const elements = sizeOf(shape);
    if (data.length !== elements) {
      return yield* new GpuValidationError({
        operation: "fromArray",
        message: `${data.length} values do not fill shape [${shape.join(", ")}] (${elements})`,
      });
    }
    const tensor = yield* empty(shape, dtype);
    yield* upload(tensor, toHost(data, dtype));
    return tensor;
  });

/** Converts numbers to the host array of a dtype. */
export const toHost = <D extends DType>(data: ArrayLike<number>, dtype: D): HostArray<D> => {
  const Ctor = dtype === "f32" ? Float32Array : dtype === "i32" ? Int32Array : Uint32Array;
  if (data instanceof Ctor) return data as HostArray<D>;
  return Ctor.from(data as ArrayLike<number>) as HostArray<D>;
};

/** Writes host data into a tensor, ordered after the work recorded so far. */
export const upload = <D extends DType>(
  tensor: Tensor<D>,
  data: HostArray<D>,
): Effect.Effect<void, GpuError, Gpu> =>
  Effect.gen(function* () {
    if (data.length > tensor.elements) {
      return yield* new GpuValidationError({
        operation: "upload",
        message: `${data.length} values exceed the tensor's ${tensor.elements} elements`,
      });
    }
    const gpu = yield* Gpu;
    yield* gpu.recorder.upload(tensor.buffer, tensor.offset ?? 0, data);
  });

/** Reads a tensor back: submits the recorded work and waits for it. */
export const download = <D extends DType>(
  tensor: Tensor<D>,
): Effect.Effect<HostArray<D>, GpuError, Gpu> =>
  Effect.map(downloadAll([tensor]), ([host]) => host as HostArray<D>);

/**
 * Every tensor's contents in one round trip: the tensors are copied side by
 * side into one staging buffer, mapped once (a checkpoint's dozens of
 * batch-norm statistics then cost one wait, not one each). Same values as
 * {@link download} of each.
 */
export const downloadAll = (
  tensors: readonly Tensor[],
): Effect.Effect<HostArray<DType>[], GpuError, Gpu> => Effect.flatten(startDownload(tensors));

/**
 * Starts reading `tensors` back: records their copies into one staging
 * buffer, submits, and asks to map it; the returned Effect waits for the
 * mapping and gives their contents (as {@link downloadAll}). Work recorded
 * in between does not wait: a caller that reads back every few batches can
 * keep training and collect the values later, when the mapping has long
 * completed (Deno resolves a mapping about 10 ms after asking, however
 * early the GPU finished).
 */
export const startDownload = (
  tensors: readonly Tensor[],
): Effect.Effect<Effect.Effect<HostArray<DType>[], GpuError>, GpuError, Gpu> =>
  Effect.gen(function* () {
    if (tensors.length === 0) return Effect.succeed([]);
    const gpu = yield* Gpu;
    const offsets: number[] = [];
    let bytes = 0;
    for (const t of tensors) {
      offsets.push(bytes);
      bytes += Math.max(4, t.elements * 4);
    }
    const staging = yield* gpu.recorder.acquire(
      bytes,
      GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    );
    for (const [i, t] of tensors.entries()) {
      gpu.recorder.copy(t.buffer, t.offset ?? 0, staging, offsets[i], Math.max(4, t.elements * 4));
    }
    yield* gpu.recorder.flush();
    // Asked now, awaited by the returned Effect; a rejection is kept for it, not left unhandled.
    const mapped = staging.mapAsync(GPUMapMode.READ, 0, bytes).then(
      () => undefined,
      (e: unknown) => e ?? new Error("mapAsync failed"),
    );
    return Effect.gen(function* () {
      const failure = yield* Effect.promise(() => mapped);
      if (failure !== undefined) {
        return yield* new GpuValidationError({ operation: "download", message: String(failure) });
      }
      const copy = staging.getMappedRange(0, bytes).slice(0);
      staging.unmap();
      gpu.pool.release(staging);
      // Views into the one copy: no second copy of the data.
      return tensors.map((t, i) => {
        const Ctor = t.dtype === "f32"
          ? Float32Array
          : t.dtype === "i32"
          ? Int32Array
          : Uint32Array;
        return new Ctor(copy, offsets[i], t.elements) as HostArray<DType>;
      });
    });
  });

/** A tensor viewed with another shape of the same size (no copy). */
export const reshape = <D extends DType>(tensor: Tensor<D>, shape: Shape): Tensor<D> => {
  if (sizeOf(shape) !== tensor.elements) {
    throw new RangeError(`cannot reshape [${tensor.shape}] to [${shape}]`);
  }
  return { ...tensor, shape: [...shape] };
};

/** Bytes every slice offset is a multiple of: WebGPU's largest storage-offset alignment. */
export const SLICE_ALIGNMENT_BYTES = 256;

/**
 * A slice of `tensor`'s buffer: `shape`'s elements from element `start` on,
 * with no copy. `start` must put the slice on a {@link SLICE_ALIGNMENT_BYTES}
 * boundary. The slice owns nothing: releasing it is a no-op, and it lives as
 * long as `tensor`.
 */
export const slice = <D extends DType>(
  tensor: Tensor<D>,
  start: number,
  shape: Shape,
): Tensor<D> => {
  const elements = sizeOf(shape);
  const offset = (tensor.offset ?? 0) + start * 4;
  if (!Number.isInteger(start) || start < 0 || start + elements > tensor.elements) {
    throw new RangeError(
      `slice [${start}, ${start + elements}) exceeds ${tensor.elements} elements`,
    );
  }
  if (offset % SLICE_ALIGNMENT_BYTES !== 0) {
    throw new RangeError(`slice at byte ${offset} is not ${SLICE_ALIGNMENT_BYTES}-byte aligned`);
  }
  return { shape: [...shape], dtype: tensor.dtype, elements, buffer: tensor.buffer, offset };
};
