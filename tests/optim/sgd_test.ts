import fc from "fast-check";
import { Effect } from "effect";
import { parameter } from "../../src/autograd/tape.ts";
import { makeSgd, type SgdState } from "../../src/optim/sgd.ts";
import { type SgdReferenceState, sgdStepReference, type SgdUpdateHyper } from "../reference/sgd.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import {
  assertClose,
  EPS32,
  gpuTestOptions,
  runGpu,
  runGpuResult,
  worstViolation,
} from "../support/gpu.ts";
import { floats } from "../support/arbitrary.ts";

const STEPS = 3;

// Two groups of 1-2 tensors with odd sizes, gradients for every step, and the
// optimizer settings (Nesterov only where PyTorch allows it).
const sgdCase = fc.record({
  sizes: fc.array(fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 2 }), {
    minLength: 2,
    maxLength: 2,
  }),
  momentum: fc.constantFrom(0, 0.9),
  nesterov: fc.boolean(),
  dampening: fc.constantFrom(0, 0.25),
  weightDecay: fc.constantFrom(0, 0.01),
  headMultiplier: fc.constantFrom(1, 10),
  headDecay: fc.constantFrom(undefined, 0),
  lrs: fc.array(fc.double({ min: 0.001, max: 0.1, noNaN: true }), {
    minLength: STEPS,
    maxLength: STEPS,
  }),
}).chain((c) => {
  const flat = c.sizes.flat();
  return fc.record({
    settings: fc.constant({
      ...c,
      nesterov: c.nesterov && c.momentum > 0,
      dampening: c.nesterov && c.momentum > 0 ? 0 : c.dampening,
    }),
    weights: fc.tuple(...flat.map((n) => floats(n))),
    grads: fc.array(fc.tuple(...flat.map((n) => floats(n))), {
      minLength: STEPS,
      maxLength: STEPS,
    }),
  });
});

/**
 * The sum of the |terms| each weight and buffer entry is computed from over the steps: the
 * reference's recurrence on magnitudes. Each step's roundings are within a few ulps of them.
 */
const sgdTerms = (
  weight: readonly number[],
  grads: readonly (readonly number[])[],
  hyper: (t: number) => SgdUpdateHyper,
) => {
  const w = weight.map(Math.abs);
  let buffer: number[] | undefined;
  grads.forEach((g, t) => {
    const h = hyper(t);
    const next: number[] = [];
    for (let i = 0; i < w.length; i++) {
      let d = Math.abs(g[i]) + h.weightDecay * w[i];
      if (h.momentum !== 0) {
        const b = buffer === undefined ? d : h.momentum * buffer[i] + (1 - h.dampening) * d;
        next.push(b);
        d = h.nesterov ? d + h.momentum * b : b;
      }
      w[i] += h.lr * d;
    }
    if (h.momentum !== 0) buffer = next;
  });
  return { weight: w, buffer };
};

const SGD_ULPS = 8 * EPS32;

Deno.test({
  name: "SGD over groups matches the float64 reference over several steps",
  ...gpuTestOptions,
  fn: async () => {
    let decayedRuns = 0;
    await fc.assert(
      fc.asyncProperty(sgdCase, async ({ settings: s, weights, grads }) => {
        const groupOf = s.sizes.flatMap((g, gi) => g.map(() => gi));
        const hyperOf = (gi: number, lr: number) => ({
          lr: lr * (gi === 1 ? s.headMultiplier : 1),
          momentum: s.momentum,
          dampening: s.dampening,
          nesterov: s.nesterov,
          weightDecay: gi === 1 ? (s.headDecay ?? s.weightDecay) : s.weightDecay,
        });
        const referenceRun = (decay: boolean) => {
          let out: SgdReferenceState[] = weights.map((w) => ({ weight: w, buffer: undefined }));
          for (let t = 0; t < STEPS; t++) {
            out = out.map((st, i) => {
              const h = hyperOf(groupOf[i], s.lrs[t]);
              return sgdStepReference(st, grads[t][i], decay ? h : { ...h, weightDecay: 0 });
            });
          }
          return out;
        };
        const expected = referenceRun(true);
        const withoutDecay = referenceRun(false);
        const terms = weights.map((w, i) =>
          sgdTerms(w, grads.map((g) => g[i]), (t) => hyperOf(groupOf[i], s.lrs[t]))
        );
        const { values, state } = await runGpu(Effect.gen(function* () {
          const scope = yield* Effect.scope;
          const params = [];
          for (let i = 0; i < weights.length; i++) {
            params.push(
              parameter(yield* fromArray(weights[i], [weights[i].length], "f32"), `p${i}`),
            );
          }
          const backbone = params.filter((_, i) => groupOf[i] === 0);
          const head = params.filter((_, i) => groupOf[i] === 1);
          const sgd = yield* makeSgd([
            { parameters: backbone },
            { parameters: head, lrMultiplier: s.headMultiplier, weightDecay: s.headDecay },
          ], {
            momentum: s.momentum,
            dampening: s.dampening,
            nesterov: s.nesterov,
            weightDecay: s.weightDecay,
          }, scope);
          for (let t = 0; t < STEPS; t++) {
            for (let i = 0; i < params.length; i++) {
              params[i].grad = yield* fromArray(grads[t][i], [grads[t][i].length], "f32");
            }
            yield* sgd.step(s.lrs[t]);
          }
          const values = [];
          for (const p of params) values.push(yield* download(p.value));
          return { values, state: yield* sgd.exportState() };
        }));
        for (let i = 0; i < weights.length; i++) {
          const atol = terms[i].weight.map((t) => SGD_ULPS * t);
          assertClose(values[i], expected[i].weight, atol, 0, `weight p${i}`);
          // The tolerance is far below the decay's effect: a kernel that skipped weight
          // decay would fail (checked here, so the property cannot lose that power).
          if (hyperOf(groupOf[i], 0).weightDecay !== 0) {
            const blind = worstViolation(withoutDecay[i].weight, expected[i].weight, atol, 0);
            if (blind.excess <= 0) throw new Error(`weight decay invisible in p${i}`);
          }
          if (s.momentum !== 0) {
            const bufferAtol = terms[i].buffer!.map((t) => SGD_ULPS * t);
            const buffer = state.momentumBuffers[`p${i}`].data;
            assertClose(buffer, expected[i].buffer!, bufferAtol, 0, `buffer p${i}`);
          }
        }
        if (s.weightDecay !== 0) decayedRuns++;
        if (s.momentum === 0 && Object.keys(state.momentumBuffers).length !== 0) {
          throw new Error("momentum 0 must keep no buffers");
        }
        if (state.steps !== STEPS || state.parameterSteps.p0 !== STEPS) {
          throw new Error(`step counters ${JSON.stringify(state)}`);
        }
      }),
      { seed: 42, numRuns: 24 },
    );
    if (decayedRuns < 6) throw new Error(`only ${decayedRuns} of 24 runs had weight decay`);
  },
});

Deno.test({
  name: "a parameter without a gradient is skipped; zeroGrad fills gradients with 0",
  ...gpuTestOptions,
  fn: async () => {
    const out = await runGpu(Effect.gen(function* () {
      const scope = yield* Effect.scope;
      const a = parameter(yield* fromArray([1, 2, 3], [3], "f32"), "a");
      const b = parameter(yield* fromArray([4, 5], [2], "f32"), "b");
      const sgd = yield* makeSgd([{ parameters: [a, b] }], { momentum: 0.5 }, scope);
      a.grad = yield* fromArray([1, 1, 1], [3], "f32");
      yield* sgd.step(0.5);
      yield* sgd.step(0.5);
      const state = yield* sgd.exportState();
      yield* sgd.zeroGrad();
      return {
        a: yield* download(a.value),
        b: yield* download(b.value),
        g: yield* download(a.grad),
        state,
      };
    }));
    // Step 1: buf = 1, w -= 0.5; step 2: buf = 0.5 + 1 = 1.5, w -= 0.75.
    assertClose(out.a, [-0.25, 0.75, 1.75], 0, 0, "a");
    assertClose(out.b, [4, 5], 0, 0, "b");
    assertClose(out.g, [0, 0, 0], 0, 0, "zeroed grad");
    if (out.state.parameterSteps.b !== 0 || out.state.momentumBuffers.b) {
      throw new Error("b took no step and must have no buffer");
    }
  },
});

Deno.test({
  name: "makeSgd and importState reject invalid settings and mismatched states",
  ...gpuTestOptions,
  fn: async () => {
    const reasons = await runGpu(Effect.gen(function* () {
      const scope = yield* Effect.scope;
      const a = parameter(yield* fromArray([1, 2, 3], [3], "f32"), "a");
      const twin = parameter(yield* fromArray([1], [1], "f32"), "a");
      const attempts = [
        makeSgd([{ parameters: [a] }], { nesterov: true, dampening: 0.1 }, scope),
        makeSgd([{ parameters: [a] }], { nesterov: true, momentum: 0 }, scope),
        makeSgd([{ parameters: [a] }, { parameters: [twin] }], {}, scope),
        makeSgd([{ parameters: [a], weightDecay: -1 }], {}, scope),
      ];
      const reasons: string[] = [];
      for (const attempt of attempts) {
        const r = yield* Effect.result(attempt);
        // Only the optimizer's own refusal counts: a GPU failure would be "accepted" here.
        reasons.push(
          r._tag === "Failure" && r.failure._tag === "OptimizerError"
            ? r.failure.reason
            : "accepted",
        );
      }
      const sgd = yield* makeSgd([{ parameters: [a] }], {}, scope);
      const badStates: SgdState[] = [
        {
          steps: 1,
          parameterSteps: { a: 1 },
          momentumBuffers: { a: { shape: [4], data: new Float32Array(4) } },
        },
        { steps: 1, parameterSteps: { z: 1 }, momentumBuffers: {} },
        { steps: 1, parameterSteps: { a: 1 }, momentumBuffers: {} },
      ];
      for (const state of badStates) {
        const r = yield* Effect.result(sgd.importState(state));
        reasons.push(r._tag === "Failure" ? r.failure._tag : "accepted");
      }
      const r = yield* Effect.result(sgd.step(Number.NaN));
      reasons.push(r._tag === "Failure" ? r.failure._tag : "accepted");
      return reasons;
    }));
    if (reasons.includes("accepted")) throw new Error(`accepted: ${JSON.stringify(reasons)}`);
  },
});

Deno.test({
  name: "a step whose gradient does not match its parameter fails",
  ...gpuTestOptions,
  fn: async () => {
    const result = await runGpuResult(Effect.gen(function* () {
      const scope = yield* Effect.scope;
      const a = parameter(yield* fromArray([1, 2, 3], [3], "f32"), "a");
      a.grad = yield* fromArray([1, 2], [2], "f32");
      const sgd = yield* makeSgd([{ parameters: [a] }], {}, scope);
      yield* sgd.step(0.1);
    }));
    if (result._tag !== "Failure") throw new Error("a mismatched gradient was accepted");
  },
});

Deno.test({
  name: "without momentum the state holds step counters only and imports with saved buffers",
  ...gpuTestOptions,
  fn: async () => {
    const out = await runGpu(Effect.gen(function* () {
      const scope = yield* Effect.scope;
      const a = parameter(yield* fromArray([1, 2, 3], [3], "f32"), "a");
      const sgd = yield* makeSgd([{ parameters: [a] }], { momentum: 0, weightDecay: 0.5 }, scope);
      a.grad = yield* fromArray([2, 2, 2], [3], "f32");
      // A state written by a run with momentum: its buffer does not apply here.
      yield* sgd.importState({
        steps: 4,
        parameterSteps: { a: 4 },
        momentumBuffers: { a: { shape: [3], data: new Float32Array([9, 9, 9]) } },
      });
      yield* sgd.step(0.25);
      return { a: yield* download(a.value), state: yield* sgd.exportState() };
    }));
    // w - 0.25 * (2 + 0.5 w)
    assertClose(out.a, [1 - 0.25 * 2.5, 2 - 0.25 * 3, 3 - 0.25 * 3.5], 0, 0, "a");
    if (out.state.steps !== 5 || out.state.parameterSteps.a !== 5) {
      throw new Error(`counters ${JSON.stringify(out.state)}`);
    }
    if (Object.keys(out.state.momentumBuffers).length !== 0) throw new Error("buffers kept");
  },
});
