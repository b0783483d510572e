/**
 * SGD with momentum, weight decay and Nesterov, with PyTorch's semantics
 * (`torch.optim.SGD`): one dispatch for the whole model when its parameters
 * are packed into an arena (`packParameters`), else one fused in-place
 * dispatch per parameter tensor. Parameters come in groups, each with its own learning-rate
 * multiplier (the DeepLab head at 10x) and weight decay (0 for batch-norm
 * parameters and biases when the caller wants).
 *
 * @module
 */
import { Data, Effect, Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import type { GpuError } from "../gpu/errors.ts";
import { type ArenaMember, makeArenaUpdate } from "./sgd_arena.ts";
import { defineKernel, linearGrid } from "../gpu/kernel.ts";
import { fillInto } from "../ops/core.ts";
import type { Parameter } from "../autograd/tape.ts";
import { download, empty, slice, type Tensor, upload } from "../tensor/tensor.ts";
import sgdSource from "../../shaders/optim/sgd.wgsl" with { type: "text" };
import updateSource from "../../shaders/optim/sgd_update.wgsl" with { type: "text" };

const WG = 256;

/** The optimizer was misconfigured or handed a state that does not fit its parameters. */
export class OptimizerError extends Data.TaggedError("OptimizerError")<{
  readonly reason: string;
}> {
  override get message(): string {
    return `optimizer: ${this.reason}`;
  }
}

/** The fused SGD update of one tensor (see shaders/optim/sgd.wgsl). */
export const sgdKernel = defineKernel({
  name: "shaders/optim/sgd.wgsl",
  source: updateSource + sgdSource,
  bindings: {
    weight: { access: "read_write", type: "f32" },
    grad: { access: "read", type: "f32" },
    momentum_buffer: { access: "read_write", type: "f32" },
  },
  params: {
    n: "u32",
    lr: "f32",
    momentum: "f32",
    dampening: "f32",
    weight_decay: "f32",
    nesterov: "u32",
    first_step: "u32",
  },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ n }) => linearGrid(n, WG),
  // Without momentum the buffer is never touched, so a 1-element stand-in suffices.
  minElements: ({ n, momentum }) => ({
    weight: n,
    grad: n,
    momentum_buffer: momentum !== 0 ? n : 1,
  }),
});

/** Effective hyper-parameters of one tensor's update. */
export interface SgdStepHyper {
  readonly lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  /** The parameter's first step: the buffer is set to the update instead of decayed. */
  readonly firstStep: boolean;
}

/** Records one in-place SGD update of `weight` (and `buffer`) from `grad`. */
export const sgdStepInto = (
  weight: Tensor<"f32">,
  grad: Tensor<"f32">,
  buffer: Tensor<"f32">,
  hyper: SgdStepHyper,
): Effect.Effect<void, GpuError, Gpu> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    yield* gpu.recorder.dispatch(sgdKernel, { weight, grad, momentum_buffer: buffer }, {
      n: weight.elements,
      lr: hyper.lr,
      momentum: hyper.momentum,
      dampening: hyper.dampening,
      weight_decay: hyper.weightDecay,
      nesterov: hyper.nesterov ? 1 : 0,
      first_step: hyper.firstStep ? 1 : 0,
    });
  });

/** A parameter group as the caller declares it. */
export interface ParamGroup {
  readonly parameters: readonly Parameter[];
  /** Multiplies the step's learning rate for this group (default 1). */
  readonly lrMultiplier?: number;
  /** Overrides the optimizer's weight decay for this group. */
  readonly weightDecay?: number;
}

/** Optimizer-wide settings; defaults follow PyTorch except momentum (0.9, the field's choice). */
export interface SgdOptions {
  readonly momentum?: number;
  readonly dampening?: number;
  readonly nesterov?: boolean;
  readonly weightDecay?: number;
}

/** A tensor on the host: row-major data and its shape (maps to a safetensors F32 entry). */
export interface HostTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * The optimizer's state as plain data, for checkpoints: momentum buffers by
 * parameter name and step counters. Parameters never stepped have no buffer.
 */
export interface SgdState {
  /** Calls of `step` so far. */
  readonly steps: number;
  /** Updates applied to each parameter (a parameter without a gradient is skipped). */
  readonly parameterSteps: Readonly<Record<string, number>>;
  readonly momentumBuffers: Readonly<Record<string, HostTensor>>;
}

/** SGD over parameter groups; create it with {@link makeSgd}. */
export interface Sgd {
  readonly groups: readonly Required<ParamGroup>[];
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  /** Calls of `step` so far. */
  readonly steps: () => number;
  /**
   * Records one update of every parameter that has a gradient, with learning
   * rate `lr * group.lrMultiplier`. Nothing is submitted.
   */
  readonly step: (lr: number) => Effect.Effect<void, GpuError | OptimizerError, Gpu>;
  /** Whether a step is one dispatch over an arena (the parameters are packed). */
  readonly fused: boolean;
  /** Fills every allocated gradient with 0. */
  readonly zeroGrad: () => Effect.Effect<void, GpuError, Gpu>;
  /** Downloads the state (submits and waits once per momentum buffer). */
  readonly exportState: () => Effect.Effect<SgdState, GpuError, Gpu>;
  /** Replaces the state with `state` (uploads, ordered after the recorded work). */
  readonly importState: (state: SgdState) => Effect.Effect<void, GpuError | OptimizerError, Gpu>;
}

interface Slot {
  steps: number;
  buffer: Tensor<"f32"> | undefined;
}

const checkHyper = (options: Required<SgdOptions>, groups: readonly Required<ParamGroup>[]) => {
  const { momentum, dampening, nesterov, weightDecay } = options;
  if (!(momentum >= 0)) return `momentum must be >= 0, got ${momentum}`;
  if (!(dampening >= 0 && dampening <= 1)) return `dampening must be in [0, 1], got ${dampening}`;
  if (nesterov && (momentum === 0 || dampening !== 0)) {
    return "Nesterov momentum requires momentum > 0 and dampening 0";
  }
  if (!(weightDecay >= 0)) return `weight decay must be >= 0, got ${weightDecay}`;
  for (const group of groups) {
    if (!(group.lrMultiplier >= 0)) return `lrMultiplier must be >= 0, got ${group.lrMultiplier}`;
    if (!(group.weightDecay >= 0)) return `weight decay must be >= 0, got ${group.weightDecay}`;
  }
  return undefined;
};

/**
 * Creates SGD over `groups`. Momentum buffers are allocated on each
 * parameter's first step in `stateScope`, which must outlive training
 * (like the `paramScope` of `backward`). Parameter names must be unique:
 * they key the exported state. When every parameter is a slice of one
 * arena, gradient and momentum arenas of its layout are allocated in
 * `stateScope` and each step is one dispatch; the parameters' `gradSlot`s
 * point into the gradient arena until `stateScope` closes.
 */
export const makeSgd = (
  groups: readonly ParamGroup[],
  options: SgdOptions,
  stateScope: Scope.Scope,
): Effect.Effect<Sgd, OptimizerError | GpuError, Gpu> =>
  Effect.gen(function* () {
    const settings: Required<SgdOptions> = {
      momentum: options.momentum ?? 0.9,
      dampening: options.dampening ?? 0,
      nesterov: options.nesterov ?? false,
      weightDecay: options.weightDecay ?? 0,
    };
    const resolved = groups.map((g): Required<ParamGroup> => ({
      parameters: [...g.parameters],
      lrMultiplier: g.lrMultiplier ?? 1,
      weightDecay: g.weightDecay ?? settings.weightDecay,
    }));
    const invalid = checkHyper(settings, resolved);
    if (invalid) return yield* new OptimizerError({ reason: invalid });
    const slots = new Map<Parameter, Slot>();
    const byName = new Map<string, Parameter>();
    for (const group of resolved) {
      for (const p of group.parameters) {
        if (byName.has(p.name)) {
          return yield* new OptimizerError({ reason: `parameter name ${p.name} appears twice` });
        }
        byName.set(p.name, p);
        slots.set(p, { steps: 0, buffer: undefined });
      }
    }
    const { momentum, dampening, nesterov } = settings;
    let steps = 0;
    let standIn: Tensor<"f32"> | undefined;
    const members: ArenaMember[] = resolved.flatMap((group, index) =>
      group.parameters.map((parameter) => ({
        parameter,
        group: index,
        weightDecay: group.weightDecay,
      }))
    );
    const arena = yield* makeArenaUpdate(members, resolved.length, settings, stateScope);
    if (arena) {
      for (const { parameter } of members) {
        const { start } = arena.slotOf(parameter);
        if (arena.momentum) {
          slots.get(parameter)!.buffer = slice(arena.momentum, start, parameter.value.shape);
        }
      }
      yield* Scope.addFinalizer(
        stateScope,
        Effect.sync(() => {
          for (const { parameter } of members) {
            if (parameter.grad === parameter.gradSlot) parameter.grad = undefined;
            parameter.gradSlot = undefined;
          }
        }),
      );
    }
    /** Whether every gradient present is its arena slot (so the arena step sees it). */
    const gradsInArena = () =>
      members.every(({ parameter: p }) => !p.grad || p.grad === p.gradSlot);

    const bufferFor = (p: Parameter, slot: Slot) =>
      Effect.gen(function* () {
        if (momentum === 0) {
          standIn ??= yield* Scope.provide(empty([1], "f32"), stateScope);
          return standIn;
        }
        slot.buffer ??= yield* Scope.provide(empty(p.value.shape, "f32"), stateScope);
        return slot.buffer;
      });

    const step = (lr: number) =>
      Effect.gen(function* () {
        if (!(lr >= 0) || !Number.isFinite(lr)) {
          return yield* new OptimizerError({ reason: `learning rate must be finite and >= 0` });
        }
        if (arena && gradsInArena()) {
          const flags = Uint32Array.from(members, ({ parameter: p }) => {
            const slot = slots.get(p)!;
            return p.grad ? 1 | (slot.steps === 0 ? 2 : 0) : 0;
          });
          yield* arena.step(resolved.map((g) => lr * g.lrMultiplier), flags);
          for (const { parameter: p } of members) if (p.grad) slots.get(p)!.steps++;
          steps++;
          return;
        }
        for (const group of resolved) {
          for (const p of group.parameters) {
            const slot = slots.get(p)!;
            // PyTorch skips parameters without a gradient, buffer and all.
            if (!p.grad) continue;
            if (p.grad.elements !== p.value.elements) {
              return yield* new OptimizerError({
                reason: `gradient of ${p.name} has ${p.grad.elements} elements, ` +
                  `the parameter ${p.value.elements}`,
              });
            }
            const buffer = yield* bufferFor(p, slot);
            yield* sgdStepInto(p.value, p.grad, buffer, {
              lr: lr * group.lrMultiplier,
              momentum,
              dampening,
              weightDecay: group.weightDecay,
              nesterov,
              firstStep: slot.steps === 0,
            });
            slot.steps++;
          }
        }
        steps++;
      });

    const zeroGrad = () =>
      Effect.gen(function* () {
        if (arena) yield* fillInto(arena.grads, 0);
        for (const p of slots.keys()) {
          if (p.grad && !(arena && p.grad === p.gradSlot)) yield* fillInto(p.grad, 0);
        }
      });

    const exportState = () =>
      Effect.gen(function* () {
        const parameterSteps: Record<string, number> = {};
        const momentumBuffers: Record<string, HostTensor> = {};
        // One download of the whole momentum arena instead of one per tensor.
        const whole = arena?.momentum ? yield* download(arena.momentum) : undefined;
        for (const [p, slot] of slots) {
          parameterSteps[p.name] = slot.steps;
          if (slot.buffer && slot.steps > 0) {
            const start = whole ? arena!.slotOf(p).start : 0;
            const data = whole
              ? whole.slice(start, start + p.value.elements)
              : yield* download(slot.buffer);
            momentumBuffers[p.name] = { shape: [...p.value.shape], data };
          }
        }
        return { steps, parameterSteps, momentumBuffers };
      });

    const importState = (state: SgdState) =>
      Effect.gen(function* () {
        const problem = checkState(state, byName, momentum);
        if (problem) return yield* new OptimizerError({ reason: problem });
        for (const [p, slot] of slots) {
          slot.steps = state.parameterSteps[p.name] ?? 0;
          const saved = state.momentumBuffers[p.name];
          // Without momentum there is nothing to restore (a saved buffer is ignored).
          if (saved && slot.steps > 0 && momentum !== 0) {
            const buffer = yield* bufferFor(p, slot);
            yield* upload(buffer, saved.data);
          }
        }
        steps = state.steps;
      });

    return {
      groups: resolved,
      momentum,
      dampening,
      nesterov,
      steps: () => steps,
      step,
      fused: arena !== undefined,
      zeroGrad,
      exportState,
      importState,
    };
  });

/** Why `state` does not fit the parameters, or undefined when it does. */
const checkState = (
  state: SgdState,
  byName: ReadonlyMap<string, Parameter>,
  momentum: number,
): string | undefined => {
  if (!Number.isInteger(state.steps) || state.steps < 0) return `invalid step count ${state.steps}`;
  for (const [name, count] of Object.entries(state.parameterSteps)) {
    if (!byName.has(name)) return `state names unknown parameter ${name}`;
    if (!Number.isInteger(count) || count < 0) return `invalid step count ${count} for ${name}`;
    if (momentum !== 0 && count > 0 && !state.momentumBuffers[name]) {
      return `parameter ${name} has taken steps but has no momentum buffer`;
    }
  }
  for (const [name, saved] of Object.entries(state.momentumBuffers)) {
    const p = byName.get(name);
    if (!p) return `state names unknown parameter ${name}`;
    const shape = p.value.shape;
    const same = saved.shape.length === shape.length && saved.shape.every((n, i) => n === shape[i]);
    if (!same || saved.data.length !== p.value.elements) {
      return `momentum buffer of ${name} has shape [${saved.shape}], the parameter [${shape}]`;
    }
  }
  return undefined;
};
