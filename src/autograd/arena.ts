/**
 * Parameter arenas: every parameter of a model in one GPU buffer, each at
 * its own aligned offset, so a whole-model update (SGD, zeroing gradients)
 * is one dispatch over one buffer instead of one per tensor. A packed
 * parameter's `value` is a slice of the arena: ops, checkpoints and
 * state-dict names see the same tensor as before, only its storage moved.
 *
 * @module
 */
import { Effect, Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import type { GpuError } from "../gpu/errors.ts";
import { fillInto } from "../ops/core.ts";
import { POISON_SLACK_BYTES } from "../gpu/poison.ts";
import { empty, release, slice, SLICE_ALIGNMENT_BYTES, type Tensor } from "../tensor/tensor.ts";
import type { Parameter } from "./tape.ts";

/** Elements one arena offset is a multiple of. */
export const ARENA_ALIGNMENT = SLICE_ALIGNMENT_BYTES / 4;

/** Where one parameter lives in its arena. */
export interface ArenaSlot {
  readonly parameter: Parameter;
  /** First element of the parameter in the arena (a multiple of {@link ARENA_ALIGNMENT}). */
  readonly start: number;
  readonly elements: number;
}

/** One buffer holding several parameters (see {@link packParameters}). */
export interface ParameterArena {
  /** The whole arena; the gaps between slots hold zeros. */
  readonly values: Tensor<"f32">;
  readonly slots: readonly ArenaSlot[];
}

const arenas = new WeakMap<Parameter, { arena: ParameterArena; slot: ArenaSlot }>();

/** Arena offsets of tensors of `sizes` elements laid out in order; the last entry is the total. */
export const arenaLayout = (sizes: readonly number[]): number[] => {
  const starts = [0];
  for (const n of sizes) {
    const end = starts[starts.length - 1] + n;
    starts.push(Math.ceil(end / ARENA_ALIGNMENT) * ARENA_ALIGNMENT);
  }
  return starts;
};

/**
 * Whether an arena of `elements` can be bound whole under `limit` bytes (the
 * device's `maxStorageBufferBindingSize`), the poisoned pool's slack included.
 */
export const arenaFits = (elements: number, limit: number): boolean =>
  elements * 4 + POISON_SLACK_BYTES <= limit;

/**
 * Moves `parameters` into one arena allocated in `scope`: each value is
 * copied to its slot (in recording order) and the parameter's `value`
 * becomes the slot. Tensors the parameters held before are released unless
 * they were themselves slices (the arena that held them belongs to its
 * owner). Parameter names must be unique. Undefined, and nothing moved, when
 * the arena would be too large for one binding (a ResNet-101's 234 MB on an
 * adapter that binds 128 MiB): the parameters then stay where they are and
 * the optimizer steps them one by one. `bindingLimit` (bytes) replaces the
 * device's `maxStorageBufferBindingSize`, for tests.
 */
export const packParameters = (
  parameters: readonly Parameter[],
  scope: Scope.Scope,
  bindingLimit?: number,
): Effect.Effect<ParameterArena | undefined, GpuError, Gpu> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const starts = arenaLayout(parameters.map((p) => p.value.elements));
    const total = Math.max(ARENA_ALIGNMENT, starts[starts.length - 1]);
    const limit = bindingLimit ?? gpu.device.limits.maxStorageBufferBindingSize;
    if (!arenaFits(total, limit)) return undefined;
    const values = yield* Scope.provide(empty([total], "f32"), scope);
    // Gaps included: the arena's every element is defined (zeros between slots).
    yield* fillInto(values, 0);
    const slots: ArenaSlot[] = [];
    for (let i = 0; i < parameters.length; i++) {
      const p = parameters[i];
      const old = p.value;
      const view = slice(values, starts[i], old.shape);
      gpu.recorder.copy(
        old.buffer,
        old.offset ?? 0,
        view.buffer,
        view.offset ?? 0,
        old.elements * 4,
      );
      p.value = view;
      slots.push({ parameter: p, start: starts[i], elements: old.elements });
      yield* release(old);
    }
    const arena: ParameterArena = { values, slots };
    for (const slot of slots) arenas.set(slot.parameter, { arena, slot });
    return arena;
  });

/** The arena `parameter` was last packed into and its slot there, if it is still a slice of it. */
export const arenaOf = (
  parameter: Parameter,
): { readonly arena: ParameterArena; readonly slot: ArenaSlot } | undefined => {
  const found = arenas.get(parameter);
  if (!found) return undefined;
  const { arena, slot } = found;
  const inPlace = parameter.value.buffer === arena.values.buffer &&
    (parameter.value.offset ?? 0) === (arena.values.offset ?? 0) + slot.start * 4;
  return inPlace ? found : undefined;
};
