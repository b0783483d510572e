/**
 * The filter and bias gradients' split sums of one backward pass in a few
 * dispatches. A split-K gradient writes its partial sums, then one dispatch
 * adds them into the parameter's gradient slot; a `small` step has 20 such
 * sums, each a dispatch whose fixed cost on a CPU adapter is most of its time.
 * Inside {@link withSplitSumBatch} the gradients write their partial sums into
 * slices of one arena and leave the sums to the batch, which reduces every
 * pending one in a single dispatch when the arena is full, before anything
 * else touches a pending gradient ({@link settleSplitSums}) and at the end.
 * Each element sums the same slices in the same order and adds the total to
 * its gradient as `sum_splits_vec4.wgsl` with `accumulate = 1` does, so the
 * gradients are bit-identical to summing each at once.
 *
 * @module
 */
import { Context, Effect, Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import type { GpuError } from "../gpu/errors.ts";
import { defineKernel, linearGrid, type ReadVia, viaSuffix } from "../gpu/kernel.ts";
import type { BufferView } from "../gpu/recorder.ts";
import {
  empty,
  fromArray,
  release,
  slice,
  SLICE_ALIGNMENT_BYTES,
  type Tensor,
} from "../tensor/tensor.ts";
import { envFlag } from "../util/env.ts";
import { readThroughTexturesWithoutAvx512 } from "./texture_reads.ts";
import source from "../../shaders/conv/sum_splits_batch.wgsl" with { type: "text" };

/** Where the batch is used; tests and benchmarks may change it. */
export const splitSumTuning = {
  /** On a CPU adapter: on; `GSC_SPLIT_SUMS_EACH=1` sums each gradient at once. */
  onCpu: !envFlag("GSC_SPLIT_SUMS_EACH"),
  /** On a GPU: off until measured there. */
  onGpu: false,
  /**
   * The most elements an arena of partial sums holds (64 MiB of f32); a
   * gradient with more partial sums sums them at once.
   */
  maxArenaElements: 16 * 1024 * 1024,
};

/** Elements of the first arena of a process: 4 MiB of f32. */
const FIRST_ARENA_ELEMENTS = 1024 * 1024;

/**
 * Quads the largest batch so far reserved in all: the next batch's arena
 * holds that many, so from the second backward pass on (the same model, the
 * same gradients) one arena and one dispatch serve a whole pass.
 */
let reservedHint = FIRST_ARENA_ELEMENTS / 4;

/** Words of one table entry (see shaders/conv/sum_splits_batch.wgsl). */
const ENTRY_WORDS = 5;

const WG = 64;

/** Consecutive quads one invocation sums (RUN in the shader). */
const RUN = 4;

/** The batched split sum reading the partial sums as `via` says. */
const batchKernelVia = (via: ReadVia) =>
  defineKernel({
    name: `shaders/conv/sum_splits_batch.wgsl${viaSuffix(via)}`,
    source,
    bindings: {
      partial: { access: "read", type: "vec4f", via },
      table: { access: "read", type: "u32" },
      out: { access: "read_write", type: "vec4f" },
    },
    params: { total: "u32", entries: "u32" },
    workgroupSize: [WG, 1, 1],
    dispatch: (p: { total: number }) => linearGrid(Math.ceil(p.total / RUN), WG),
    minElements: (p: { entries: number }) => ({ table: p.entries * ENTRY_WORDS }),
  });

/** The batched split sum over storage reads, and through a texture copy (CPU adapters). */
export const splitSumBatchKernels = {
  buffer: batchKernelVia("buffer"),
  texture: batchKernelVia("texture"),
} as const;

/** One pending sum: quads of the arena and of the output buffer. */
interface PendingSum {
  readonly partialStart: number;
  readonly outStart: number;
  readonly size: number;
  readonly splits: number;
}

/** Quads an arena slice starts on a multiple of (the storage offset alignment). */
const SLICE_QUADS = SLICE_ALIGNMENT_BYTES / 16;

/**
 * The pending sums of one backward pass and the arena their partial sums
 * live in. Arenas are allocated in the batch's own scope (the pass's), never
 * in the scope of the op that asks for one, which may close before the sum.
 */
export class SplitSumBatch {
  readonly #scope: Scope.Scope;
  #arena: Tensor<"f32"> | undefined;
  #out: GPUBuffer | undefined;
  /** Quads of the arena handed out. */
  #used = 0;
  /** Quads reserved since the batch began, over every arena. */
  #reserved = 0;
  #pending: PendingSum[] = [];
  #deferred = 0;
  #flushes = 0;

  /** A batch whose arenas live at most as long as `scope`. */
  constructor(scope: Scope.Scope) {
    this.#scope = scope;
  }

  /** Sums left to the batch so far. */
  get deferred(): number {
    return this.#deferred;
  }

  /** Dispatches the batch has recorded so far. */
  get flushes(): number {
    return this.#flushes;
  }

  /**
   * A slice of the arena for `splits` partial slices of `size` elements that
   * will be added into `out`, or undefined where the sum should be made at
   * once (`size` not whole quads, `out` not at a quad offset, more than an
   * arena holds). Sums pending on another buffer, or on bytes `out`
   * overlaps, or too many for the arena's rest, are flushed first.
   */
  reserve(
    out: Tensor<"f32">,
    size: number,
    splits: number,
  ): Effect.Effect<Tensor<"f32"> | undefined, GpuError, Gpu | Scope.Scope> {
    // deno-lint-ignore no-this-alias
    const batch = this;
    return Effect.gen(function* () {
      const quads = (size / 4) * splits;
      const maxQuads = splitSumTuning.maxArenaElements / 4;
      if (size % 4 !== 0 || (out.offset ?? 0) % 16 !== 0 || quads > maxQuads) return undefined;
      const arenaQuads = (batch.#arena?.elements ?? 0) / 4;
      if (
        (batch.#out && batch.#out !== out.buffer) || batch.#overlaps(out) ||
        alignQuads(batch.#used) + quads > arenaQuads
      ) {
        yield* batch.flush();
      }
      if (!batch.#arena) {
        const arenaSize = Math.min(maxQuads, Math.max(reservedHint, quads));
        batch.#arena = yield* Scope.provide(empty([arenaSize * 4], "f32"), batch.#scope);
      }
      const first = alignQuads(batch.#used);
      batch.#used = first + quads;
      batch.#reserved += quads;
      reservedHint = Math.min(maxQuads, Math.max(reservedHint, alignQuads(batch.#reserved)));
      batch.#out = out.buffer;
      return slice(batch.#arena, first * 4, [quads * 4]);
    });
  }

  /**
   * Leaves the sum of `partial` (a slice {@link reserve} gave, its `splits`
   * slices written) into `out` to the batch.
   */
  defer(partial: Tensor<"f32">, out: Tensor<"f32">, size: number, splits: number): void {
    const arenaOffset = this.#arena?.offset ?? 0;
    this.#pending.push({
      partialStart: ((partial.offset ?? 0) - arenaOffset) / 16,
      outStart: (out.offset ?? 0) / 16,
      size: size / 4,
      splits,
    });
    this.#deferred++;
  }

  /** Flushes when a pending sum's output overlaps one of `targets`. */
  settle(
    targets: readonly (Tensor<"f32"> | undefined)[],
  ): Effect.Effect<void, GpuError, Gpu | Scope.Scope> {
    return targets.some((t) => t !== undefined && this.#overlaps(t)) ? this.flush() : Effect.void;
  }

  /** Records one dispatch for every pending sum and hands the arena back. */
  flush(): Effect.Effect<void, GpuError, Gpu | Scope.Scope> {
    // deno-lint-ignore no-this-alias
    const batch = this;
    return Effect.gen(function* () {
      const arena = batch.#arena;
      const out = batch.#out;
      const pending = batch.#pending;
      batch.#arena = undefined;
      batch.#out = undefined;
      batch.#used = 0;
      batch.#pending = [];
      if (!arena) return;
      if (pending.length > 0 && out) {
        yield* sumPending(arena, out, pending);
        batch.#flushes++;
      }
      yield* release(arena);
    });
  }

  #overlaps(t: Tensor<"f32">): boolean {
    if (this.#out !== t.buffer) return false;
    const start = (t.offset ?? 0) / 16;
    const end = start + Math.ceil(t.elements / 4);
    return this.#pending.some((p) => p.outStart < end && start < p.outStart + p.size);
  }
}

/** `quads` rounded up to a slice's alignment. */
const alignQuads = (quads: number): number => Math.ceil(quads / SLICE_QUADS) * SLICE_QUADS;

/** Records the dispatch of `pending` (partial sums in `arena`, outputs in `out`). */
const sumPending = (arena: Tensor<"f32">, out: GPUBuffer, pending: readonly PendingSum[]) =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const words = new Uint32Array(pending.length * ENTRY_WORDS);
    let total = 0;
    let partialQuads = 0;
    let outQuads = 0;
    for (const [e, sum] of pending.entries()) {
      words.set([total, sum.size, sum.partialStart, sum.outStart, sum.splits], e * ENTRY_WORDS);
      total += Math.ceil(sum.size / RUN) * RUN;
      partialQuads = Math.max(partialQuads, sum.partialStart + sum.size * sum.splits);
      outQuads = Math.max(outQuads, sum.outStart + sum.size);
    }
    const table = yield* fromArray(words, [words.length], "u32");
    // The arena's written part, and the output buffer from its start.
    const partial = slice(arena, 0, [partialQuads * 4]);
    const outView: BufferView = { buffer: out, dtype: "f32", elements: outQuads * 4 };
    // Through a texture copy only without AVX-512 code: with it the copy costs
    // more than the storage loads save (a `small` step's batch 1.8-2.2 ms from
    // the buffer against 2.0-2.7 through a texture; with AVX2 code 7.1-9.9
    // against 3.7-4.4).
    const via = readThroughTexturesWithoutAvx512(gpu.adapter.isFallback, partial)
      ? "texture"
      : "buffer";
    yield* gpu.recorder.dispatch(
      splitSumBatchKernels[via],
      { partial, table, out: outView },
      { total, entries: pending.length },
    );
    yield* release(table);
  });

/** The batch of the backward pass being recorded; undefined outside one. */
export const CurrentSplitSums = Context.Reference<SplitSumBatch | undefined>(
  "gsc-webgpu/SplitSumBatch",
  { defaultValue: () => undefined },
);

/** Whether split sums are batched on this adapter. */
export const batchesSplitSums = (isFallback: boolean): boolean =>
  isFallback ? splitSumTuning.onCpu : splitSumTuning.onGpu;

/**
 * Runs `body` (a backward pass) with a split-sum batch where the adapter takes
 * one, and flushes it at the end: every gradient is complete when it returns.
 */
export const withSplitSumBatch = <A, E, R>(
  body: Effect.Effect<A, E, R>,
): Effect.Effect<A, E | GpuError, R | Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    if (!batchesSplitSums(gpu.adapter.isFallback)) return yield* body;
    const batch = new SplitSumBatch(yield* Effect.scope);
    const result = yield* Effect.provideService(body, CurrentSplitSums, batch);
    yield* batch.flush();
    return result;
  });

/** Flushes the current batch when a pending sum writes into one of `targets`. */
export const settleSplitSums = (
  targets: readonly (Tensor<"f32"> | undefined)[],
): Effect.Effect<void, GpuError, Gpu | Scope.Scope> =>
  Effect.flatMap(CurrentSplitSums, (batch) => batch ? batch.settle(targets) : Effect.void);
