import fc from "fast-check";
import { Effect } from "effect";
import { ARENA_ALIGNMENT, arenaFits, arenaOf, packParameters } from "../../src/autograd/arena.ts";
import { POISON_SLACK_BYTES } from "../../src/gpu/poison.ts";
import { type Parameter, parameter } from "../../src/autograd/tape.ts";
import { makeSgd, type SgdState } from "../../src/optim/sgd.ts";
import {
  type ArenaShape,
  CPU_ARENA_SHAPE,
  GPU_ARENA_SHAPE,
  setArenaQuads,
  setArenaShape,
} from "../../src/optim/sgd_arena.ts";
import { download, fromArray, upload } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { floats } from "../support/arbitrary.ts";
import { tracing } from "../support/tracing.ts";
import { textureReads } from "../../src/ops/texture_reads.ts";

const STEPS = 3;

// Sizes around the arena's alignment and the kernel's chunks (1024 elements on a GPU, 4096 on a CPU).
const size = fc.constantFrom(1, 3, 63, 64, 65, 1023, 1024, 1500, 2049, 4097);

const arenaCase = fc.record({
  sizes: fc.array(size, { minLength: 2, maxLength: 5 }),
  momentum: fc.constantFrom(0, 0.9),
  nesterov: fc.boolean(),
  dampening: fc.constantFrom(0, 0.25),
  weightDecay: fc.constantFrom(0, 0.01),
  headMultiplier: fc.constantFrom(1, 10),
  headDecay: fc.constantFrom(undefined, 0),
  // The last parameter has no gradient before this step (PyTorch skips it until then).
  lateStart: fc.integer({ min: 0, max: STEPS }),
  seed: fc.integer({ min: 0, max: 1000 }),
}).map((c) => ({
  ...c,
  nesterov: c.nesterov && c.momentum > 0,
  dampening: c.nesterov && c.momentum > 0 ? 0 : c.dampening,
}));

type ArenaCase = typeof arenaCase extends fc.Arbitrary<infer T> ? T : never;

const valuesOf = (sizes: readonly number[], seed: number, salt: number) =>
  fc.sample(fc.tuple(...sizes.map((n) => floats(n))), { seed: seed * 7 + salt, numRuns: 1 })[0];

/** Runs `f` with the texture form of the quad arena kernel on or off (on any adapter). */
const withTextureReads = <A>(on: boolean, f: () => Promise<A>): Promise<A> => {
  const saved = { ...textureReads };
  Object.assign(textureReads, { withoutAvx512OnCpu: on, onGpu: on });
  return f().finally(() => Object.assign(textureReads, saved));
};

/** Runs `f` with the optimizers it creates taking `shape`. */
const withShape = <A>(shape: ArenaShape, f: () => Promise<A>): Promise<A> => {
  const saved = setArenaShape(shape);
  return f().finally(() => setArenaShape(saved));
};

/** Runs STEPS steps of SGD on fresh parameters, packed into an arena or not; the kernels run. */
const run = (c: ArenaCase, packed: boolean) =>
  runGpu(Effect.gen(function* () {
    const traced = yield* tracing(steps(c, packed));
    return { ...traced.result, kernels: traced.kernels, dispatches: traced.dispatches };
  }));

/** STEPS steps of SGD on fresh parameters, packed into an arena or not. */
const steps = (c: ArenaCase, packed: boolean) =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope;
    const weights = valuesOf(c.sizes, c.seed, 0);
    const params: Parameter[] = [];
    for (let i = 0; i < c.sizes.length; i++) {
      params.push(parameter(yield* fromArray(weights[i], [c.sizes[i]], "f32"), `p${i}`));
    }
    if (packed) yield* packParameters(params, scope);
    const half = Math.ceil(params.length / 2);
    const sgd = yield* makeSgd([
      { parameters: params.slice(0, half) },
      {
        parameters: params.slice(half),
        lrMultiplier: c.headMultiplier,
        weightDecay: c.headDecay,
      },
    ], {
      momentum: c.momentum,
      dampening: c.dampening,
      nesterov: c.nesterov,
      weightDecay: c.weightDecay,
    }, scope);
    if (sgd.fused !== packed) throw new Error(`fused ${sgd.fused}, packed ${packed}`);
    for (let t = 0; t < STEPS; t++) {
      const grads = valuesOf(c.sizes, c.seed, t + 1);
      yield* sgd.zeroGrad();
      for (let i = 0; i < params.length; i++) {
        if (i === params.length - 1 && t < c.lateStart) continue;
        const p = params[i];
        // What backward does: the arena slot when there is one, else a tensor of its own.
        p.grad ??= p.gradSlot ??
          (yield* fromArray(new Float32Array(c.sizes[i]), [c.sizes[i]], "f32"));
        yield* upload(p.grad, Float32Array.from(grads[i]));
      }
      yield* sgd.step(0.05 / (t + 1));
    }
    const values: Float32Array[] = [];
    for (const p of params) values.push(yield* download(p.value));
    return { values, state: yield* sgd.exportState() };
  });

const sameState = (a: SgdState, b: SgdState) => {
  if (
    JSON.stringify(a.parameterSteps) !== JSON.stringify(b.parameterSteps) || a.steps !== b.steps
  ) {
    throw new Error(`step counters differ: ${JSON.stringify([a, b].map((s) => s.parameterSteps))}`);
  }
  const names = Object.keys(a.momentumBuffers).sort();
  if (names.join() !== Object.keys(b.momentumBuffers).sort().join()) {
    throw new Error(`buffers differ: ${names} vs ${Object.keys(b.momentumBuffers)}`);
  }
  for (const name of names) {
    assertClose(a.momentumBuffers[name].data, b.momentumBuffers[name].data, 0, 0, `buffer ${name}`);
  }
};

Deno.test({
  name:
    "the one-dispatch arena SGD (quad and scalar kernels) equals the per-tensor SGD bit for bit",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(arenaCase, async (c) => {
        const tensorwise = await run(c, false);
        const arena = await withTextureReads(false, () => run(c, true));
        const quads = setArenaQuads(false);
        const scalarArena = await run(c, true).finally(() => setArenaQuads(quads));
        // The quad kernel reading values, gradients and momentum through texture copies.
        const textureArena = await withTextureReads(true, () => run(c, true));
        // The other adapter kind's chunks and workgroups.
        const adapterShape = arena.dispatches.find((d) => d.kernel.includes("sgd_arena_vec4"))
            ?.constants.WG === CPU_ARENA_SHAPE.quadWorkgroup
          ? CPU_ARENA_SHAPE
          : GPU_ARENA_SHAPE;
        const otherShape = adapterShape === CPU_ARENA_SHAPE ? GPU_ARENA_SHAPE : CPU_ARENA_SHAPE;
        const otherArena = await withTextureReads(
          false,
          () => withShape(otherShape, () => run(c, true)),
        );
        const groups = otherArena.dispatches.filter((d) => d.kernel.includes("sgd_arena_vec4"))
          .map((d) => d.constants.WG);
        if (groups.length === 0 || groups.some((wg) => wg !== otherShape.quadWorkgroup)) {
          throw new Error(`the other shape did not run: workgroups ${groups}`);
        }
        tensorwise.values.forEach((v, i) => assertClose(otherArena.values[i], v, 0, 0, `p${i}`));
        sameState(otherArena.state, tensorwise.state);
        tensorwise.values.forEach((v, i) => assertClose(arena.values[i], v, 0, 0, `p${i}`));
        tensorwise.values.forEach((v, i) => assertClose(scalarArena.values[i], v, 0, 0, `p${i}`));
        tensorwise.values.forEach((v, i) => assertClose(textureArena.values[i], v, 0, 0, `p${i}`));
        sameState(arena.state, tensorwise.state);
        sameState(scalarArena.state, tensorwise.state);
        sameState(textureArena.state, tensorwise.state);
        if (!textureArena.kernels.includes("shaders/optim/sgd_arena_vec4.wgsl+textures")) {
          throw new Error(`the texture form did not run: ${textureArena.kernels}`);
        }
        if (arena.kernels.some((k) => k.endsWith("+textures"))) {
          throw new Error(`a texture form ran with texture reads off: ${arena.kernels}`);
        }
        // The late parameter took exactly the steps it had a gradient for.
        const late = `p${c.sizes.length - 1}`;
        if (arena.state.parameterSteps[late] !== STEPS - c.lateStart) {
          throw new Error(`${late} took ${arena.state.parameterSteps[late]} steps`);
        }
      }),
      { seed: 7, numRuns: 16 },
    );
  },
});

Deno.test({
  name: "packing keeps every value, aligns every slot and zeroes the gaps",
  ...gpuTestOptions,
  fn: async () => {
    const sizes = [3, 64, 65, 1];
    const out = await runGpu(Effect.gen(function* () {
      const scope = yield* Effect.scope;
      const params = [];
      for (let i = 0; i < sizes.length; i++) {
        const data = Float32Array.from({ length: sizes[i] }, (_, j) => i * 1000 + j + 1);
        params.push(parameter(yield* fromArray(data, [sizes[i]], "f32"), `p${i}`));
      }
      const arena = yield* packParameters(params, scope);
      if (!arena) throw new Error("a small arena was not packed");
      const values = [];
      for (const p of params) values.push(yield* download(p.value));
      return { arena, whole: yield* download(arena.values), values, params };
    }));
    const covered = new Uint8Array(out.whole.length);
    out.arena.slots.forEach((slot, i) => {
      if (slot.start % ARENA_ALIGNMENT !== 0) throw new Error(`slot ${i} at ${slot.start}`);
      if (arenaOf(out.params[i])?.slot !== slot) throw new Error(`arenaOf lost p${i}`);
      const expected = Float32Array.from({ length: sizes[i] }, (_, j) => i * 1000 + j + 1);
      assertClose(out.values[i], expected, 0, 0, `p${i}`);
      covered.fill(1, slot.start, slot.start + slot.elements);
    });
    out.whole.forEach((v, i) => {
      if (!covered[i] && v !== 0) throw new Error(`gap element ${i} is ${v}`);
    });
  },
});

Deno.test({
  name: "the quad arena update keeps the gaps between slots at zero and reaches every last element",
  ...gpuTestOptions,
  fn: async () => {
    const sizes = [3, 65, 1];
    const out = await runGpu(Effect.gen(function* () {
      const scope = yield* Effect.scope;
      const params: Parameter[] = [];
      for (let i = 0; i < sizes.length; i++) {
        const data = Float32Array.from({ length: sizes[i] }, (_, j) => i + j / 7 + 1);
        params.push(parameter(yield* fromArray(data, [sizes[i]], "f32"), `p${i}`));
      }
      const arena = yield* packParameters(params, scope);
      if (!arena) throw new Error("a small arena was not packed");
      const sgd = yield* makeSgd([{ parameters: params }], {
        momentum: 0.9,
        nesterov: true,
        weightDecay: 0.01,
      }, scope);
      for (let t = 0; t < 3; t++) {
        yield* sgd.zeroGrad();
        for (const p of params) {
          p.grad ??= p.gradSlot!;
          yield* upload(p.grad, Float32Array.from({ length: p.value.elements }, (_, j) => j - t));
        }
        yield* sgd.step(0.1);
      }
      const state = yield* sgd.exportState();
      return { arena, whole: yield* download(arena.values), state };
    }));
    const covered = new Uint8Array(out.whole.length);
    for (const slot of out.arena.slots) covered.fill(1, slot.start, slot.start + slot.elements);
    out.whole.forEach((v, i) => {
      if (!covered[i] && v !== 0) throw new Error(`gap element ${i} is ${v} after 3 steps`);
    });
    // Every slot moved: the update reached the last quad of each parameter.
    for (const [name, buffer] of Object.entries(out.state.momentumBuffers)) {
      if (buffer.data.some((v) => !Number.isFinite(v))) throw new Error(`${name}: ${buffer.data}`);
      if (buffer.data[buffer.data.length - 1] === 0) {
        throw new Error(`${name}: last element unmoved`);
      }
    }
  },
});

Deno.test("an arena fits when its bytes and the poison slack fit one binding", () => {
  const limit = 128 * 1024 * 1024;
  const most = (limit - POISON_SLACK_BYTES) / 4;
  if (!arenaFits(most, limit)) throw new Error(`${most} elements should fit`);
  if (arenaFits(most + 1, limit)) throw new Error(`${most + 1} elements should not fit`);
});

Deno.test({
  name: "parameters past one binding are not packed: they stay where they are",
  ...gpuTestOptions,
  fn: async () => {
    const moved = await runGpu(Effect.gen(function* () {
      const scope = yield* Effect.scope;
      // 128 and 160 elements against a limit of 1 KiB (poison slack aside): the first
      // would fit alone (512 bytes), the two together (1152 bytes and more) do not.
      const limit = 1024 + POISON_SLACK_BYTES;
      const params = [
        parameter(yield* fromArray(new Float32Array(128), [128], "f32"), "a"),
        parameter(yield* fromArray(new Float32Array(160), [160], "f32"), "b"),
      ];
      const before = params.map((p) => p.value);
      const arena = yield* packParameters(params, scope, limit);
      const same = params.every((p, i) => p.value === before[i]);
      const fits = yield* packParameters(params.slice(0, 1), scope, limit);
      return { arena, fits, same };
    }));
    if (moved.arena !== undefined) throw new Error("an arena past the binding limit was made");
    if (moved.fits === undefined) throw new Error("an arena within the limit was not made");
    if (!moved.same) throw new Error("a parameter moved");
  },
});
