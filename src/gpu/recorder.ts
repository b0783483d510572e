/**
 * The execution context: records many dispatches and copies into one command
 * encoder and submits them once, on `flush`. Nothing waits on the GPU until a
 * download asks for data.
 *
 * @module
 */
import { Effect } from "effect";
import {
  BindingError,
  DeviceLostError,
  type GpuError,
  GpuValidationError,
  OutOfMemoryError,
} from "./errors.ts";
import {
  type BindingSpec,
  type DType,
  fitsTexture,
  type Kernel,
  paramsByteSize,
  type ScalarType,
  TEXTURE_MAX_ROWS,
  TEXTURE_ROW_TEXELS,
  UNIFORM_BINDING_BYTES,
  type Values,
  writeParams,
} from "./kernel.ts";
import type { PipelineCache } from "./pipelines.ts";
import type { BufferPool } from "./pool.ts";
import { poolPoisoned } from "./poison_mode.ts";

/** What a kernel binding accepts: a region of a GPU buffer holding `elements` of `dtype`. */
export interface BufferView {
  readonly buffer: GPUBuffer;
  readonly dtype: DType;
  readonly elements: number;
  /**
   * Where the region starts, in bytes (default 0). A view at an offset is a
   * slice of a larger buffer (a parameter in an arena): its offset is a
   * multiple of the device's storage-offset alignment and it is bound exactly.
   */
  readonly offset?: number;
}

/** The tensors of a dispatch, one per declared binding. */
export type BindingsOf<B extends Record<string, BindingSpec>> = {
  readonly [K in keyof B]: BufferView;
};

/**
 * Bytes of one uniform chunk: the parameters of every dispatch until the next
 * submit, each at a dynamic offset (a binding is only its own few bytes, so
 * the chunk may pass the 64 KiB binding limit). One chunk holds the 8 batches
 * the engine records between two submits (about 330 dispatches a GSC batch,
 * 256 bytes each): every dispatch then binds the same chunk buffer, which the
 * pool hands back after each submit, so its bind group is found again.
 */
const UNIFORM_CHUNK_BYTES = 4 * 1024 * 1024;

interface UniformChunk {
  readonly buffer: GPUBuffer;
  readonly staging: Uint8Array;
  used: number;
}

/** Bind groups the recorder keeps at most before it starts over. */
const MAX_CACHED_BIND_GROUPS = 8192;

/** A number per object (a buffer, a layout), for cache keys. */
const identities = new WeakMap<object, number>();
let nextIdentity = 0;
const identity = (object: object): number => {
  let id = identities.get(object);
  if (id === undefined) {
    id = nextIdentity++;
    identities.set(object, id);
  }
  return id;
};

/** Records GPU work for one submit. One recorder per device. */
export class CommandRecorder {
  readonly #device: GPUDevice;
  readonly #pool: BufferPool;
  readonly #pipelines: PipelineCache;
  readonly #isLost: () => GPUDeviceLostInfo | undefined;
  readonly #alignment: number;
  #encoder: GPUCommandEncoder | undefined;
  #pass: GPUComputePassEncoder | undefined;
  #chunks: UniformChunk[] = [];
  /** Host arrays of submitted chunks, kept for the next ones. */
  #spareStaging: Uint8Array[] = [];
  #afterSubmit: GPUBuffer[] = [];
  #commands = 0;
  #submits = 0;
  #dispatches = 0;
  /** Bind groups by layout and bound ranges: a training step binds the same ones every step. */
  readonly #bindGroups = new Map<string, GPUBindGroup>();
  /**
   * Textures of the bindings read through one (`via: "texture"`), by binding
   * slot and height, with their views. A dispatch copies its buffer into the
   * texture first; a later dispatch may copy other data into the same texture,
   * since the commands of a queue run in order.
   */
  readonly #textures = new Map<string, { texture: GPUTexture; view: GPUTextureView }>();

  constructor(
    device: GPUDevice,
    pool: BufferPool,
    pipelines: PipelineCache,
    isLost: () => GPUDeviceLostInfo | undefined,
  ) {
    this.#device = device;
    this.#pool = pool;
    this.#pipelines = pipelines;
    this.#isLost = isLost;
    this.#alignment = device.limits.minUniformBufferOffsetAlignment;
  }

  /** Commands recorded since the last submit. */
  get pending(): number {
    return this.#commands;
  }

  /** Dispatches recorded so far (benchmarks count them per training step). */
  get dispatches(): number {
    return this.#dispatches;
  }

  /** Submits made so far (benchmarks check that a step submits once). */
  get submits(): number {
    return this.#submits;
  }

  /**
   * Records one dispatch of `kernel`. Bindings are checked against the
   * declarations (dtype, minimum size, no buffer both read and written)
   * before anything reaches WebGPU.
   */
  dispatch<
    B extends Record<string, BindingSpec>,
    P extends Record<string, ScalarType>,
    C extends Record<string, ScalarType>,
  >(
    kernel: Kernel<B, P, C>,
    bindings: BindingsOf<B>,
    params: Values<P>,
    constants: Values<C> = {} as Values<C>,
  ): Effect.Effect<void, GpuError> {
    const lost = this.#isLost();
    if (lost) return Effect.fail(lostError(lost));
    const invalid = checkBindings(kernel as unknown as Kernel, bindings, params, constants);
    if (invalid) return Effect.fail(invalid);
    const cached = this.#pipelines.lookup(kernel as unknown as Kernel, constants);
    if (cached) {
      this.#record(kernel as unknown as Kernel, cached, bindings, params, constants);
      return Effect.void;
    }
    return this.#pipelines.get(kernel as unknown as Kernel, constants).pipe(
      Effect.map((compiled) =>
        this.#record(kernel as unknown as Kernel, compiled, bindings, params, constants)
      ),
    );
  }

  /** Records a buffer-to-buffer copy (ends the current compute pass). */
  copy(
    source: GPUBuffer,
    sourceOffset: number,
    target: GPUBuffer,
    targetOffset: number,
    bytes: number,
  ): void {
    const encoder = this.#openEncoder();
    this.#closePass();
    encoder.copyBufferToBuffer(source, sourceOffset, target, targetOffset, bytes);
    this.#commands++;
  }

  /**
   * Writes `data` into `target` in recording order: through a staging buffer
   * and a recorded copy, so it cannot overtake commands that are not yet
   * submitted (a direct `queue.writeBuffer` would).
   */
  upload(
    target: GPUBuffer,
    targetOffset: number,
    data: ArrayBufferView,
  ): Effect.Effect<void, GpuError> {
    const bytes = data.byteLength;
    if (bytes === 0) return Effect.void;
    const padded = Math.ceil(bytes / 4) * 4;
    return this.acquire(padded, GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST).pipe(
      Effect.map((staging) => {
        const source = new Uint8Array(data.buffer, data.byteOffset, bytes);
        if (padded === bytes) this.#device.queue.writeBuffer(staging, 0, source);
        else {
          const copy = new Uint8Array(padded);
          copy.set(source);
          this.#device.queue.writeBuffer(staging, 0, copy);
        }
        this.copy(staging, 0, target, targetOffset, padded);
        this.#afterSubmit.push(staging);
      }),
    );
  }

  /**
   * A pooled buffer; a newly created one is checked for allocation failure
   * (a reused one needs no error scope, so it is handed out at once).
   */
  acquire(bytes: number, usage: GPUBufferUsageFlags): Effect.Effect<GPUBuffer, GpuError> {
    const max = this.#device.limits.maxBufferSize;
    if (bytes > max) {
      return Effect.fail(
        new OutOfMemoryError({
          bytes,
          message: `a buffer of ${bytes} bytes exceeds the device's maxBufferSize (${max})`,
        }),
      );
    }
    const device = this.#device;
    const pool = this.#pool;
    const reused = pool.reuse(bytes, usage);
    if (reused) return Effect.succeed(reused);
    device.pushErrorScope("out-of-memory");
    const buffer = pool.create(bytes, usage);
    return Effect.promise(() => device.popErrorScope()).pipe(
      Effect.flatMap((error) => {
        if (!error) return Effect.succeed(buffer);
        buffer.destroy();
        pool.trim();
        return Effect.fail(new OutOfMemoryError({ bytes, message: error.message }));
      }),
    );
  }

  /** Submits everything recorded, as one command buffer. A no-op when idle. */
  flush(): Effect.Effect<void, GpuError> {
    const lost = this.#isLost();
    if (lost) return Effect.fail(lostError(lost));
    if (!this.#encoder) return Effect.void;
    const device = this.#device;
    const encoder = this.#encoder;
    this.#closePass();
    this.#encoder = undefined;
    const chunks = this.#chunks;
    const released = this.#afterSubmit;
    this.#chunks = [];
    this.#afterSubmit = [];
    this.#commands = 0;
    this.#submits++;
    device.pushErrorScope("validation");
    for (const chunk of chunks) {
      device.queue.writeBuffer(chunk.buffer, 0, chunk.staging, 0, Math.max(16, chunk.used));
    }
    device.queue.submit([encoder.finish()]);
    for (const chunk of chunks) {
      this.#pool.release(chunk.buffer);
      // writeBuffer has copied what it needs: the host bytes serve the next chunk.
      if (this.#spareStaging.length < 2) this.#spareStaging.push(chunk.staging);
    }
    for (const buffer of released) this.#pool.release(buffer);
    return Effect.promise(() => device.popErrorScope()).pipe(
      Effect.flatMap((error) =>
        error
          ? Effect.fail(new GpuValidationError({ operation: "submit", message: error.message }))
          : Effect.void
      ),
    );
  }

  /** Flushes, then waits until the GPU has finished all submitted work. */
  sync(): Effect.Effect<void, GpuError> {
    return this.flush().pipe(
      Effect.andThen(Effect.promise(() => this.#device.queue.onSubmittedWorkDone())),
    );
  }

  #openEncoder(): GPUCommandEncoder {
    if (!this.#encoder) this.#encoder = this.#device.createCommandEncoder();
    return this.#encoder;
  }

  #closePass(): void {
    this.#pass?.end();
    this.#pass = undefined;
  }

  #record(
    kernel: Kernel,
    compiled: { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout },
    bindings: Record<string, BufferView>,
    params: Record<string, number>,
    constants: Record<string, number>,
  ): void {
    const grid = kernel.dispatch(params, constants);
    if (grid[0] * grid[1] * grid[2] === 0) return;
    const uniform = this.#uniformSlot(kernel, params);
    const entries: GPUBindGroupEntry[] = Object.keys(kernel.bindings).map((name, binding) => {
      const view = bindings[name];
      if (kernel.bindings[name].via === "texture") {
        return { binding, resource: this.#textureCopy(binding, view) };
      }
      const size = kernel.bindings[name].via === "uniform" ? quadBytes(view) : bindingBytes(view);
      const resource = { buffer: view.buffer, offset: view.offset ?? 0, size };
      return { binding, resource };
    });
    // Bound at offset 0 with the slot's offset given at dispatch (a dynamic offset).
    entries.push({
      binding: entries.length,
      resource: { buffer: uniform.buffer, offset: 0, size: paramsByteSize(kernel) },
    });
    const bindGroup = this.#bindGroup(compiled.layout, entries);
    const encoder = this.#openEncoder();
    if (!this.#pass) this.#pass = encoder.beginComputePass();
    this.#pass.setPipeline(compiled.pipeline);
    this.#pass.setBindGroup(0, bindGroup, [uniform.offset]);
    this.#pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    this.#commands++;
    this.#dispatches++;
  }

  /**
   * Records the copy of `view` (f32, a multiple of 4 elements) into the
   * texture of binding `slot`: rows of {@link TEXTURE_ROW_TEXELS} texels, the
   * last one partial; returns the texture's view. Heights are powers of two,
   * so a few textures a slot serve every size.
   */
  #textureCopy(slot: number, view: BufferView): GPUTextureView {
    const texels = view.elements / 4;
    const rows = Math.max(1, Math.ceil(texels / TEXTURE_ROW_TEXELS));
    const height = 2 ** Math.ceil(Math.log2(rows));
    const key = `${slot}:${height}`;
    let entry = this.#textures.get(key);
    if (!entry) {
      const texture = this.#device.createTexture({
        size: [TEXTURE_ROW_TEXELS, height],
        format: "rgba32float",
        usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
      });
      entry = { texture, view: texture.createView() };
      this.#textures.set(key, entry);
    }
    const encoder = this.#openEncoder();
    this.#closePass();
    const offset = view.offset ?? 0;
    const bytesPerRow = TEXTURE_ROW_TEXELS * 16;
    const full = Math.floor(texels / TEXTURE_ROW_TEXELS);
    const rest = texels - full * TEXTURE_ROW_TEXELS;
    if (full > 0) {
      encoder.copyBufferToTexture(
        { buffer: view.buffer, offset, bytesPerRow, rowsPerImage: full },
        { texture: entry.texture },
        [TEXTURE_ROW_TEXELS, full, 1],
      );
    }
    if (rest > 0) {
      encoder.copyBufferToTexture(
        { buffer: view.buffer, offset: offset + full * bytesPerRow, bytesPerRow },
        { texture: entry.texture, origin: [0, full, 0] },
        [rest, 1, 1],
      );
    }
    this.#commands++;
    return entry.view;
  }

  /**
   * The bind group of `entries`, made once per layout and bound ranges and
   * reused after (creating one costs tens of microseconds, a step binds
   * about 150). Keys name buffers by identity, so a buffer the pool has
   * destroyed is never looked up again; the cache starts over when it grows
   * past {@link MAX_CACHED_BIND_GROUPS}.
   */
  #bindGroup(layout: GPUBindGroupLayout, entries: GPUBindGroupEntry[]): GPUBindGroup {
    if (this.#bindGroups.size > MAX_CACHED_BIND_GROUPS) this.#bindGroups.clear();
    let key = String(identity(layout));
    for (const entry of entries) {
      if (entry.resource instanceof GPUTextureView) {
        key += `|t${identity(entry.resource)}`;
        continue;
      }
      const { buffer, offset, size } = entry.resource as GPUBufferBinding;
      key += `|${identity(buffer)}:${offset}:${size}`;
    }
    let group = this.#bindGroups.get(key);
    if (!group) {
      group = this.#device.createBindGroup({ layout, entries });
      this.#bindGroups.set(key, group);
    }
    return group;
  }

  #uniformSlot(
    kernel: Kernel,
    params: Record<string, number>,
  ): { buffer: GPUBuffer; offset: number } {
    const bytes = paramsByteSize(kernel);
    let chunk = this.#chunks.at(-1);
    if (!chunk || chunk.used + bytes > UNIFORM_CHUNK_BYTES) {
      const { buffer } = this.#pool.acquire(
        UNIFORM_CHUNK_BYTES,
        GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      );
      const staging = this.#spareStaging.pop() ?? new Uint8Array(UNIFORM_CHUNK_BYTES);
      chunk = { buffer, staging, used: 0 };
      this.#chunks.push(chunk);
    }
    const offset = chunk.used;
    writeParams(kernel, params, new DataView(chunk.staging.buffer), offset);
    chunk.used = Math.ceil((offset + bytes) / this.#alignment) * this.#alignment;
    return { buffer: chunk.buffer, offset };
  }
}

/**
 * Bytes bound for a view: its elements rounded to 16, or the whole buffer when
 * poisoned (a slice at an offset is always bound exactly: its neighbours are
 * other tensors, not slack).
 */
const bindingBytes = (view: BufferView): number => {
  const start = view.offset ?? 0;
  const rounded = Math.max(16, Math.ceil((view.elements * 4) / 16) * 16);
  if (poolPoisoned() && start === 0) return view.buffer.size;
  return Math.min(view.buffer.size - start, rounded);
};

/** Bytes of a view's elements rounded up to whole vec4s: a uniform binding's exact size. */
const quadBytes = (view: BufferView): number => Math.ceil(view.elements / 4) * 16;

const lostError = (info: GPUDeviceLostInfo): DeviceLostError =>
  new DeviceLostError({ reason: info.reason ?? "unknown", message: info.message });

/** Checks a dispatch's bindings against the kernel's declarations; undefined when valid. */
export const checkBindings = (
  kernel: Kernel,
  bindings: Record<string, BufferView>,
  params: Record<string, number>,
  constants: Record<string, number>,
): BindingError | undefined => {
  const fail = (binding: string, reason: string) =>
    new BindingError({ kernel: kernel.name, binding, reason });
  for (const name of Object.keys(kernel.params)) {
    if (typeof params[name] !== "number" || Number.isNaN(params[name])) {
      return fail(`params.${name}`, `parameter ${name} is missing or not a number`);
    }
  }
  for (const name of Object.keys(kernel.constants)) {
    if (typeof constants[name] !== "number") {
      return fail(`constants.${name}`, `constant ${name} is missing`);
    }
  }
  const minimum = kernel.minElements(params, constants) as Record<string, number | undefined>;
  const bound: { view: BufferView; name: string; writes: boolean }[] = [];
  for (const [name, spec] of Object.entries(kernel.bindings)) {
    const view = bindings[name];
    if (!view) return fail(name, "no tensor bound");
    const expected = spec.type === "vec4f" ? "f32" : spec.type;
    if (view.dtype !== expected) {
      return fail(name, `expects ${expected} elements, got a ${view.dtype} tensor`);
    }
    if (spec.via === "texture" && !fitsTexture(view)) {
      return fail(
        name,
        `a texture binding needs a multiple of 4 elements, at most ` +
          `${TEXTURE_ROW_TEXELS} x ${TEXTURE_MAX_ROWS} texels, at a 16-byte offset; got ` +
          `${view.elements} at byte ${view.offset ?? 0}`,
      );
    }
    if (spec.via === "uniform") {
      const quads = constants[spec.quads ?? ""];
      if (Math.ceil(view.elements / 4) !== quads || view.elements * 4 > UNIFORM_BINDING_BYTES) {
        return fail(
          name,
          `a uniform binding needs at most ${UNIFORM_BINDING_BYTES} bytes in exactly the ` +
            `${spec.quads} (${quads}) vec4s the kernel declares; got ${view.elements} elements`,
        );
      }
    }
    const need = minimum[name] ?? 0;
    if (view.elements < need) {
      return fail(name, `needs at least ${need} elements, the tensor has ${view.elements}`);
    }
    if ((view.offset ?? 0) + view.elements * 4 > view.buffer.size) {
      return fail(name, `the buffer (${view.buffer.size} bytes) is smaller than its tensor`);
    }
    // A snapshot reads a texture copy made before the dispatch, never the
    // buffer itself: it may share bytes with a binding the kernel writes (the
    // optimizer's values, read through one and written through the other).
    // Other texture bindings follow the buffer rule, so a call that aliases a
    // written binding fails alike whichever path the adapter takes.
    if (spec.snapshot) continue;
    const writes = spec.access === "read_write";
    const clash = bound.find((b) => (writes || b.writes) && overlaps(b.view, view));
    if (clash) {
      return fail(name, `shares its buffer with binding ${clash.name}; one of them writes`);
    }
    bound.push({ view, name, writes });
  }
  return undefined;
};

/** Whether two views bind overlapping bytes of one buffer (as bound, rounded to 16). */
const overlaps = (a: BufferView, b: BufferView): boolean => {
  if (a.buffer !== b.buffer) return false;
  const aStart = a.offset ?? 0;
  const bStart = b.offset ?? 0;
  return aStart < bStart + bindingBytes(b) && bStart < aStart + bindingBytes(a);
};
