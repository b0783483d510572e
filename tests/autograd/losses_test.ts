import fc from "fast-check";
import { Effect } from "effect";
import {
  bceWithLogits,
  crossEntropy,
  crossEntropyChecked,
  klDivergence,
  maskedMean,
} from "../../src/autograd/losses.ts";
import { constant, grad, parameter } from "../../src/autograd/tape.ts";
import {
  bceBackwardReference,
  crossEntropyBackwardReference,
  crossEntropyReference,
  klBackwardReference,
  klReference,
} from "../reference/loss.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu, runGpuResult } from "../support/gpu.ts";
import { floats } from "../support/arbitrary.ts";
import { bceAtol, ceAtol, klAtol } from "../support/tolerances.ts";

const cases = fc.record({
  pixels: fc.integer({ min: 1, max: 41 }),
  channels: fc.integer({ min: 1, max: 11 }),
}).chain((c) =>
  fc.record({
    c: fc.constant(c),
    z: floats(c.pixels * c.channels, 4),
    t: floats(c.pixels * c.channels, 4),
    labels: fc.array(
      fc.oneof(fc.integer({ min: 0, max: c.channels - 1 }), fc.constantFrom(255, -3)),
      { minLength: c.pixels, maxLength: c.pixels },
    ),
    weights: fc.array(fc.constantFrom<number>(0, 0.5, 1, 2), {
      minLength: c.pixels,
      maxLength: c.pixels,
    }),
    mask: fc.array(fc.constantFrom<number>(0, 1, 0.25), {
      minLength: c.pixels,
      maxLength: c.pixels,
    }),
  })
);

Deno.test({
  name: "weighted cross-entropy: scalar node, gradient w * (softmax - onehot) / #valid",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ c, z, labels, weights }) => {
        const shape = [1, c.pixels, 1, c.channels];
        const out = await runGpu(Effect.gen(function* () {
          const Z = parameter(yield* fromArray(z, shape, "f32"), "Z");
          const y = yield* fromArray(labels, [1, c.pixels, 1], "i32");
          const w = yield* fromArray(weights, [1, c.pixels, 1], "f32");
          const r = yield* crossEntropyChecked(Z, y, { weights: w });
          const [dz] = yield* grad(r.loss, [Z]);
          return {
            shape: r.loss.value.shape,
            loss: yield* download(r.loss.value),
            bad: yield* download(r.badLabels),
            dz: yield* download(dz),
          };
        }));
        if (out.shape.join() !== "1") throw new Error(`loss shape [${out.shape}]`);
        const ref = crossEntropyReference(z, labels, c.channels, { weights });
        const atol = ceAtol(z, labels, c.channels, [1], { weights });
        assertClose(out.loss, ref.loss, atol.loss, 1e-5, "loss");
        assertClose(out.bad, [ref.bad], 0, 0, "bad labels");
        const dzRef = crossEntropyBackwardReference(z, labels, c.channels, [1], { weights });
        assertClose(out.dz, dzRef, atol.dz, 1e-5, "dz");
      }),
      { seed: 42, numRuns: 25 },
    );
  },
});

Deno.test({
  name: "masked mean of the CE map equals finite differences of the float64 composition",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ c, z, labels, mask }) => {
        const shape = [c.pixels, 1, 1, c.channels];
        const [value, dz] = await runGpu(Effect.gen(function* () {
          const Z = parameter(yield* fromArray(z, shape, "f32"), "Z");
          const y = yield* fromArray(labels, [c.pixels, 1, 1], "i32");
          const m = yield* fromArray(mask, [c.pixels], "f32");
          const map = yield* crossEntropy(Z, y, { reduction: "none" });
          const loss = yield* maskedMean(map, m);
          const [dz] = yield* grad(loss, [Z]);
          return [yield* download(loss.value), yield* download(dz)];
        }));
        const f = (x: number[]) => {
          const map = crossEntropyReference(x, labels, c.channels, { reduction: "none" }).loss;
          const w = mask.reduce((a, b) => a + b, 0);
          return w === 0 ? 0 : map.reduce((s, v, i) => s + v * mask[i], 0) / w;
        };
        // The masked mean is the CE map weighted by the mask, summed, over the mask's sum; the
        // float64 finite differences are good to about 1e-9.
        const total = mask.reduce((a, b) => a + b, 0);
        const atol = ceAtol(z, labels, c.channels, [total === 0 ? 0 : 1 / total], {
          weights: mask,
          reduction: "sum",
        });
        assertClose(value, [f(z)], atol.loss.map((t) => t / (total || 1)), 1e-5, "value");
        const h = 1e-5;
        const fd = z.map((_, i) => {
          const plus = [...z];
          const minus = [...z];
          plus[i] += h;
          minus[i] -= h;
          return (f(plus) - f(minus)) / (2 * h);
        });
        assertClose(dz, fd, atol.dz.map((t) => t + 1e-9), 1e-5, "dz");
      }),
      { seed: 42, numRuns: 20 },
    );
  },
});

Deno.test({
  name: "KL with teacher logits as a parameter gives both gradients; a probs teacher stays fixed",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(cases, fc.constantFrom(1, 2, 4), async ({ c, z, t, mask }, temp) => {
        const shape = [c.pixels, c.channels];
        const options = { teacher: "logits" as const, temperature: temp };
        const out = await runGpu(Effect.gen(function* () {
          const S = parameter(yield* fromArray(z, shape, "f32"), "S");
          const T = parameter(yield* fromArray(t, shape, "f32"), "T");
          const m = yield* fromArray(mask, [c.pixels], "f32");
          const loss = yield* klDivergence(T, S, { ...options, mask: m });
          const [ds, dt] = yield* grad(loss, [S, T]);
          return {
            loss: yield* download(loss.value),
            ds: yield* download(ds),
            dt: yield* download(dt),
          };
        }));
        const o = { ...options, mask };
        const atol = klAtol(t, z, c.channels, [1], o);
        assertClose(out.loss, klReference(t, z, c.channels, o).loss, atol.loss, 1e-5, "loss");
        const ref = klBackwardReference(t, z, c.channels, [1], o);
        assertClose(out.ds, ref.student, atol.ds, 1e-5, "student");
        assertClose(out.dt, ref.teacher, atol.dt, 1e-5, "teacher");
      }),
      { seed: 42, numRuns: 20 },
    );
    const refused = await runGpuResult(Effect.gen(function* () {
      const P = parameter(yield* fromArray([0.5, 0.5], [1, 2], "f32"), "P");
      const S = constant(yield* fromArray([0, 1], [1, 2], "f32"));
      return yield* klDivergence(P, S, { teacher: "probs" });
    }));
    if (refused._tag !== "Failure") throw new Error("a probs teacher with a gradient must fail");
  },
});

Deno.test({
  name: "BCE with logits: scalar mean node and gradient (sigmoid(x) - y) / n",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ c, z, mask }) => {
        const shape = [1, 1, c.pixels, c.channels];
        const targets = z.map((_, i) => mask[i % c.pixels]);
        const [loss, dx] = await runGpu(Effect.gen(function* () {
          const X = parameter(yield* fromArray(z, shape, "f32"), "X");
          const y = yield* fromArray(targets, shape, "f32");
          const loss = yield* bceWithLogits(X, y);
          const [dx] = yield* grad(loss, [X]);
          return [loss.value.shape, yield* download(dx)];
        }));
        if (loss.join() !== "1") throw new Error("not a scalar");
        const atol = bceAtol(z, targets, [1]);
        assertClose(dx, bceBackwardReference(z, targets, [1]), atol.dx, 1e-5, "dx");
      }),
      { seed: 42, numRuns: 15 },
    );
  },
});
