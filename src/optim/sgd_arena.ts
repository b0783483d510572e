/**
 * The one-dispatch SGD step over a parameter arena (see
 * `autograd/arena.ts`): gradients and momentum buffers get arenas of the
 * same layout as the values, and one kernel updates every parameter of
 * every group. The per-parameter arithmetic is that of `sgd.wgsl`, so the
 * result is bit-identical to one dispatch per tensor.
 *
 * @module
 */
import { Effect, Scope } from "effect";
import { arenaOf, type ArenaSlot, type ParameterArena } from "../autograd/arena.ts";
import type { Parameter } from "../autograd/tape.ts";
import { Gpu } from "../gpu/device.ts";
import type { GpuError } from "../gpu/errors.ts";
import { defineKernel, linearGrid, type ReadVia, viaSuffix } from "../gpu/kernel.ts";
import { fillInto } from "../ops/core.ts";
import { readThroughTexturesWithoutAvx512 } from "../ops/texture_reads.ts";
import { empty, slice, type Tensor, upload } from "../tensor/tensor.ts";
import arenaSource from "../../shaders/optim/sgd_arena.wgsl" with { type: "text" };
import updateSource from "../../shaders/optim/sgd_update.wgsl" with { type: "text" };
import arenaVec4Source from "../../shaders/optim/sgd_arena_vec4.wgsl" with { type: "text" };
import groupLrSource from "../../shaders/optim/sgd_group_lr.wgsl" with { type: "text" };
import updateVec4Source from "../../shaders/optim/sgd_update_vec4.wgsl" with { type: "text" };

const WG = 256;

/**
 * How the update splits the arena: `chunk` elements a workgroup (a chunk never
 * spans two parameters; a multiple of 4, so every chunk starts on a quad) and
 * the quad kernel's workgroup size.
 */
export interface ArenaShape {
  readonly chunk: number;
  readonly quadWorkgroup: number;
}

/** A GPU's shape: chunks of 256 quads over 64 invocations. */
export const GPU_ARENA_SHAPE: ArenaShape = { chunk: 1024, quadWorkgroup: 64 };

/**
 * A CPU adapter's shape: llvmpipe runs a workgroup on one thread, and one SIMD
 * row (8 invocations) walking a chunk of 1024 quads took about half the time
 * of 64 invocations walking 256 (`bench/sgd_shapes.ts`). Every element gets
 * the same arithmetic either way, so results are bit-identical.
 */
export const CPU_ARENA_SHAPE: ArenaShape = { chunk: 4096, quadWorkgroup: 8 };

let forcedShape: ArenaShape | undefined;

/**
 * Makes the optimizers created from now on take `shape` whatever the adapter
 * (undefined: each adapter's own) and returns the previous setting: tests and
 * the bench compare the shapes with it.
 */
export const setArenaShape = (shape: ArenaShape | undefined): ArenaShape | undefined => {
  const previous = forcedShape;
  forcedShape = shape;
  return previous;
};

/** The shape an optimizer created now takes on an adapter (`isFallback`: a CPU one). */
export const arenaShape = (isFallback: boolean): ArenaShape =>
  forcedShape ?? (isFallback ? CPU_ARENA_SHAPE : GPU_ARENA_SHAPE);
/** Groups the kernel takes learning rates for. */
export const MAX_ARENA_GROUPS = 4;

/** The arena SGD update (see shaders/optim/sgd_arena.wgsl). */
export const sgdArenaKernel = defineKernel({
  name: "shaders/optim/sgd_arena.wgsl",
  source: updateSource + groupLrSource + arenaSource,
  bindings: {
    weight: { access: "read_write", type: "f32" },
    grad: { access: "read", type: "f32" },
    momentum_buffer: { access: "read_write", type: "f32" },
    table: { access: "read", type: "u32" },
  },
  params: {
    chunks: "u32",
    parameters: "u32",
    elements: "u32",
    lr_0: "f32",
    lr_1: "f32",
    lr_2: "f32",
    lr_3: "f32",
    momentum: "f32",
    dampening: "f32",
    nesterov: "u32",
  },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ chunks }) => linearGrid(chunks, 1),
  minElements: ({ chunks, parameters, elements, momentum }) => ({
    weight: elements,
    grad: elements,
    momentum_buffer: momentum !== 0 ? elements : 1,
    table: 4 * (chunks + parameters),
  }),
});

/** How the quad kernel reads the values and momentum it also writes. */
const quadReads = (via: ReadVia): string =>
  via === "texture"
    ? `fn read_weight(q: u32) -> vec4<f32> { return load_weight_in(q); }
fn read_momentum(q: u32) -> vec4<f32> { return load_momentum_in(q); }
`
    : `fn read_weight(q: u32) -> vec4<f32> { return weight[q]; }
fn read_momentum(q: u32) -> vec4<f32> { return momentum_buffer[q]; }
`;

/** The quad arena update reading the values, gradients and momentum as `via` says. */
const sgdArenaVec4KernelVia = (via: ReadVia) =>
  defineKernel({
    name: `shaders/optim/sgd_arena_vec4.wgsl${viaSuffix(via)}`,
    source: quadReads(via) + updateVec4Source + groupLrSource + arenaVec4Source,
    bindings: {
      weight: { access: "read_write", type: "vec4f" },
      grad: { access: "read", type: "vec4f", via },
      momentum_buffer: { access: "read_write", type: "vec4f" },
      table: { access: "read", type: "u32" },
      // Texture copies of the values and momentum (a storage buffer cannot be
      // bound both writable and read-only in one dispatch, so the buffer form
      // reads the writable bindings).
      ...(via === "texture"
        ? {
          weight_in: { access: "read", type: "vec4f", via, snapshot: true },
          momentum_in: { access: "read", type: "vec4f", via, snapshot: true },
        } as const
        : {}),
    },
    params: sgdArenaKernel.params,
    constants: { WG: "u32" },
    workgroupSize: ({ WG }) => [WG, 1, 1],
    dispatch: ({ chunks }) => linearGrid(chunks, 1),
    minElements: (p, c) => {
      const sizes = sgdArenaKernel.minElements(p, c);
      return via === "texture"
        ? { ...sizes, weight_in: sizes.weight, momentum_in: sizes.momentum_buffer }
        : sizes;
    },
  });

/**
 * {@link sgdArenaKernel} a quad per invocation (the arenas bound as vec4;
 * `elements` counts quads): the same chunk table, bit-identical updates.
 */
export const sgdArenaVec4Kernel = sgdArenaVec4KernelVia("buffer");

/**
 * {@link sgdArenaVec4Kernel} reading the values, gradients and momentum from
 * texture copies (llvmpipe without AVX-512 code).
 */
export const sgdArenaVec4TextureKernel = sgdArenaVec4KernelVia("texture");

let arenaQuads = true;

/**
 * Turns the quad form of the arena update on or off (on by default when the
 * arena's length is a multiple of 4, as aligned arenas are) and returns the
 * previous setting: tests compare the two forms with it.
 */
export const setArenaQuads = (on: boolean): boolean => {
  const previous = arenaQuads;
  arenaQuads = on;
  return previous;
};

/** A parameter of the update with its group. */
export interface ArenaMember {
  readonly parameter: Parameter;
  readonly group: number;
  readonly weightDecay: number;
}

/** The chunk and parameter table of the kernel; flags start at 0 (nothing stepped). */
export const arenaTable = (
  members: readonly ArenaMember[],
  slotOf: (p: Parameter) => ArenaSlot,
  chunk: number,
): { table: Uint32Array; chunks: number } => {
  const chunkRows: number[] = [];
  members.forEach((m, index) => {
    const { start, elements } = slotOf(m.parameter);
    for (let at = 0; at < elements; at += chunk) {
      chunkRows.push(start + at, Math.min(chunk, elements - at), index, 0);
    }
  });
  const chunks = chunkRows.length / 4;
  const table = new Uint32Array(4 * (chunks + members.length));
  table.set(chunkRows);
  const bits = new DataView(table.buffer);
  members.forEach((m, index) => {
    const at = 4 * (chunks + index);
    table[at] = m.group;
    bits.setFloat32(4 * (at + 1), m.weightDecay, true);
  });
  return { table, chunks };
};

/** Hyper-parameters shared by every group. */
export interface ArenaSettings {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
}

/** Gradient and momentum arenas of one optimizer, and its one-dispatch step. */
export interface ArenaUpdate {
  /** The gradient arena: zeroing gradients is one fill of it. */
  readonly grads: Tensor<"f32">;
  /** The momentum arena (undefined without momentum). */
  readonly momentum: Tensor<"f32"> | undefined;
  /** Each member's slot in the arenas. */
  readonly slotOf: (p: Parameter) => ArenaSlot;
  /**
   * Records the update at learning rate `lrs[g]` for group g; `flags[i]` is
   * member i's flags (bit 0: has a gradient, bit 1: first step).
   */
  readonly step: (
    lrs: readonly number[],
    flags: Uint32Array,
  ) => Effect.Effect<void, GpuError, Gpu>;
}

/**
 * The arena update of `members` when they all live in one arena and there
 * are at most {@link MAX_ARENA_GROUPS} groups; undefined otherwise (the
 * caller steps tensor by tensor). The arenas are allocated in `scope`, and
 * each member's `gradSlot` is pointed at its slice of the gradient arena.
 */
export const makeArenaUpdate = (
  members: readonly ArenaMember[],
  groups: number,
  settings: ArenaSettings,
  scope: Scope.Scope,
): Effect.Effect<ArenaUpdate | undefined, GpuError, Gpu> =>
  Effect.gen(function* () {
    const arena = commonArena(members.map((m) => m.parameter));
    if (!arena || groups > MAX_ARENA_GROUPS || members.length === 0) return undefined;
    const gpu = yield* Gpu;
    const slots = new Map(arena.slots.map((s) => [s.parameter, s]));
    const slotOf = (p: Parameter) => slots.get(p)!;
    const elements = arena.values.elements;
    const allocate = () =>
      Effect.gen(function* () {
        const t = yield* Scope.provide(empty([elements], "f32"), scope);
        yield* fillInto(t, 0);
        return t;
      });
    const grads = yield* allocate();
    const momentum = settings.momentum !== 0 ? yield* allocate() : undefined;
    // A stand-in of one quad when there is no momentum (the quad kernel binds vec4).
    const standIn = momentum ?? (yield* Scope.provide(empty([4], "f32"), scope));
    for (const { parameter } of members) {
      const { start } = slotOf(parameter);
      parameter.gradSlot = slice(grads, start, parameter.value.shape);
      parameter.grad = undefined;
    }
    const shape = arenaShape(gpu.adapter.isFallback);
    const { table: host, chunks } = arenaTable(members, slotOf, shape.chunk);
    const table = yield* Scope.provide(empty([host.length], "u32"), scope);
    yield* upload(table, host);
    const flagsAt = 4 * chunks;
    let uploaded = new Uint32Array(members.length);

    const step = (lrs: readonly number[], flags: Uint32Array) =>
      Effect.gen(function* () {
        if (flags.some((f, i) => f !== uploaded[i])) {
          for (let i = 0; i < members.length; i++) host[flagsAt + 4 * i + 2] = flags[i];
          // Only the parameter rows change; the chunk rows stay as uploaded.
          yield* gpu.recorder.upload(table.buffer, flagsAt * 4, host.subarray(flagsAt));
          uploaded = flags.slice();
        }
        const bindings = { weight: arena.values, grad: grads, momentum_buffer: standIn, table };
        const params = {
          chunks,
          parameters: members.length,
          elements,
          lr_0: lrs[0] ?? 0,
          lr_1: lrs[1] ?? 0,
          lr_2: lrs[2] ?? 0,
          lr_3: lrs[3] ?? 0,
          momentum: settings.momentum,
          dampening: settings.dampening,
          nesterov: settings.nesterov ? 1 : 0,
        };
        if (arenaQuads && elements % 4 === 0) {
          const quads = { ...params, elements: elements / 4 };
          if (
            readThroughTexturesWithoutAvx512(gpu.adapter.isFallback, arena.values, grads, standIn)
          ) {
            const copies = { ...bindings, weight_in: arena.values, momentum_in: standIn };
            yield* gpu.recorder.dispatch(sgdArenaVec4TextureKernel, copies, quads, {
              WG: shape.quadWorkgroup,
            });
          } else {
            yield* gpu.recorder.dispatch(sgdArenaVec4Kernel, bindings, quads, {
              WG: shape.quadWorkgroup,
            });
          }
        } else {
          yield* gpu.recorder.dispatch(sgdArenaKernel, bindings, params);
        }
      });

    return { grads, momentum, slotOf, step };
  });

/** The arena every parameter of `parameters` is a slice of, if there is one. */
const commonArena = (parameters: readonly Parameter[]): ParameterArena | undefined => {
  let arena: ParameterArena | undefined;
  for (const p of parameters) {
    const found = arenaOf(p)?.arena;
    if (!found || (arena && found !== arena)) return undefined;
    arena = found;
  }
  return arena;
};
