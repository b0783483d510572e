import fc from "fast-check";
import { Effect } from "effect";
import { grad, parameter } from "../../../src/autograd/tape.ts";
import {
  featureDistillation,
  knowledgeDistillation,
  unbiasedDistillation,
} from "../../../src/incremental/losses/mod.ts";
import {
  distillationBackwardReference,
  featureDistillationReference,
  knowledgeDistillationReference,
  unbiasedDistillationReference,
} from "../../reference/incremental.ts";
import { finiteDifferences } from "../../reference/plop.ts";
import { download, fromArray } from "../../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu, runGpuResult } from "../../support/gpu.ts";
import { floats } from "../../support/arbitrary.ts";

/** Runs one distillation on the GPU: the loss and the student's gradient. */
const gpuDistill = (
  unbiased: boolean,
  z: readonly number[],
  t: readonly number[],
  shape: readonly number[],
  old: number,
  options: { alpha?: number; mask?: readonly number[] } = {},
) =>
  runGpu(Effect.gen(function* () {
    const Z = parameter(yield* fromArray(z, shape, "f32"), "Z");
    const T = yield* fromArray(t, [...shape.slice(0, 3), old], "f32");
    const mask = options.mask
      ? yield* fromArray(options.mask, shape.slice(0, 3), "f32")
      : undefined;
    const op = unbiased ? unbiasedDistillation : knowledgeDistillation;
    const loss = yield* op(Z, T, old, { alpha: options.alpha, mask });
    const [dz] = yield* grad(loss, [Z]);
    return { loss: (yield* download(loss.value))[0], dz: Array.from(yield* download(dz)) };
  }));

Deno.test({
  name: "distillations: hand-computed values on one pixel",
  ...gpuTestOptions,
  fn: async () => {
    // Teacher logits [0, 0]: q = [1/2, 1/2]. Student z = [0, ln 2, ln 5]:
    // exp = [1, 2, 5], sum 8; old classes {0, 1}, new class 2.
    // Unbiased (MiB): background merges {0, 2}: (1 + 5) / 8 = 3/4; class 1: 2/8.
    //   loss = -(1/2 ln(3/4) + 1/2 ln(1/4)) / 2 = ln(16/3) / 4.
    // Plain (LwF): log-softmax over z_0, z_1 only: [1/3, 2/3].
    //   loss = -(1/2 ln(1/3) + 1/2 ln(2/3)) / 2 = ln(9/2) / 4.
    const z = [0, Math.log(2), Math.log(5)];
    const shape = [1, 1, 1, 3];
    const unbiased = await gpuDistill(true, z, [0, 0], shape, 2);
    assertClose([unbiased.loss], [Math.log(16 / 3) / 4], 1e-6, 1e-5, "unbiased");
    // d/dz: -(1/2) * (own - softmax): own = [q0 * 1/6, q1, q0 * 5/6] = [1/12, 1/2, 5/12],
    // softmax = [1/8, 1/4, 5/8]: dz = [1/48, -1/8, 5/48].
    assertClose(unbiased.dz, [1 / 48, -1 / 8, 5 / 48], 1e-6, 1e-5, "unbiased dz");
    const plain = await gpuDistill(false, z, [0, 0], shape, 2);
    assertClose([plain.loss], [Math.log(9 / 2) / 4], 1e-6, 1e-5, "plain");
    // -(1/2) * (q - softmax_old) = -(1/2) [1/2 - 1/3, 1/2 - 2/3, 0] = [-1/12, 1/12, 0].
    assertClose(plain.dz, [-1 / 12, 1 / 12, 0], 1e-6, 1e-5, "plain dz");
    // alpha = 2 on teacher [0, ln 2]: q = softmax([0, 2 ln 2]) = [1/5, 4/5];
    // plain loss = -(1/5 ln(1/3) + 4/5 ln(2/3)) / 2.
    const sharp = await gpuDistill(false, z, [0, Math.log(2)], shape, 2, { alpha: 2 });
    const expected = -(0.2 * Math.log(1 / 3) + 0.8 * Math.log(2 / 3)) / 2;
    assertClose([sharp.loss], [expected], 1e-6, 1e-5, "alpha");
  },
});

const cases = fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  h: fc.integer({ min: 1, max: 5 }),
  w: fc.integer({ min: 1, max: 5 }),
  c: fc.integer({ min: 2, max: 9 }),
}).chain((s) => {
  const pixels = s.n * s.h * s.w;
  return fc.integer({ min: 1, max: s.c - 1 }).chain((old) =>
    fc.record({
      s: fc.constant(s),
      old: fc.constant(old),
      z: floats(pixels * s.c, 4),
      t: floats(pixels * old, 4),
      alpha: fc.constantFrom(1, 0.5, 2),
      mask: fc.option(
        fc.array(fc.constantFrom(0, 1, 0.5), { minLength: pixels, maxLength: pixels }),
        { nil: undefined },
      ),
      unbiased: fc.boolean(),
    })
  );
});

Deno.test({
  name: "distillations: GPU matches the float64 reference, loss and gradient, random shapes",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ s, old, z, t, alpha, mask, unbiased }) => {
        const options = { alpha, mask };
        const out = await gpuDistill(unbiased, z, t, [s.n, s.h, s.w, s.c], old, options);
        const ref = unbiased
          ? unbiasedDistillationReference(z, t, s.c, old, options)
          : knowledgeDistillationReference(z, t, s.c, old, options);
        const dref = distillationBackwardReference(unbiased, z, t, s.c, old, options);
        assertClose([out.loss], [ref], 1e-5, 1e-4, "loss");
        assertClose(out.dz, dref, 1e-6, 1e-4, "dz");
      }),
      { seed: 42, numRuns: 25 },
    );
  },
});

Deno.test("distillation references: analytic gradients equal central finite differences", () => {
  fc.assert(
    fc.property(cases, ({ s, old, z, t, alpha, mask, unbiased }) => {
      const options = { alpha, mask };
      const f = (x: number[]) =>
        unbiased
          ? unbiasedDistillationReference(x, t, s.c, old, options)
          : knowledgeDistillationReference(x, t, s.c, old, options);
      const analytic = distillationBackwardReference(unbiased, z, t, s.c, old, options);
      assertClose(analytic, finiteDifferences(f, z), 1e-7, 1e-5, "fd");
    }),
    { seed: 42, numRuns: 40 },
  );
});

Deno.test({
  name:
    "unbiased KD is stationary, at the teacher's entropy / |old|, when the merged student equals the teacher",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        floats(6, 3),
        async (old, added, t6) => {
          // Student: z_c = t_c for old c >= 1, z_0 = t_0 - ln 2 and each of the m
          // new classes t_0 - ln(2 m): the merged background has exp(t_0).
          const t = t6.slice(0, old);
          const z = [t[0] - Math.log(2), ...t.slice(1)];
          for (let k = 0; k < added; k++) z.push(t[0] - Math.log(2 * added));
          const out = await gpuDistill(true, z, t, [1, 1, 1, old + added], old);
          const lse = Math.log(t.reduce((s, v) => s + Math.exp(v), 0));
          const entropy = -t.reduce((s, v) => s + Math.exp(v - lse) * (v - lse), 0);
          assertClose([out.loss], [entropy / old], 1e-5, 1e-4, "minimum");
          assertClose(out.dz, new Array(old + added).fill(0), 1e-6, 0, "stationary");
        },
      ),
      { seed: 42, numRuns: 10 },
    );
  },
});

Deno.test({
  name: "feature distillation: MSE, hand-computed and against the reference",
  ...gpuTestOptions,
  fn: async () => {
    // (0 + 4 + 0 + 16) / 4 = 5; gradient 2 (a - b) / 4 = [0, 1, 0, 2].
    const run = (a: readonly number[], b: readonly number[], shape: number[]) =>
      runGpu(Effect.gen(function* () {
        const A = parameter(yield* fromArray(a, shape, "f32"), "A");
        const loss = yield* featureDistillation(A, yield* fromArray(b, shape, "f32"));
        const [da] = yield* grad(loss, [A]);
        return { loss: (yield* download(loss.value))[0], da: Array.from(yield* download(da)) };
      }));
    const hand = await run([1, 2, 3, 4], [1, 0, 3, 0], [1, 1, 2, 2]);
    assertClose([hand.loss], [5], 1e-6, 0, "hand");
    assertClose(hand.da, [0, 1, 0, 2], 1e-6, 0, "hand grad");
    await fc.assert(
      fc.asyncProperty(
        fc.record({ p: fc.integer({ min: 1, max: 13 }), c: fc.integer({ min: 1, max: 7 }) })
          .chain((s) =>
            fc.record({ s: fc.constant(s), a: floats(s.p * s.c, 3), b: floats(s.p * s.c, 3) })
          ),
        async ({ s, a, b }) => {
          const out = await run(a, b, [1, s.p, 1, s.c]);
          assertClose([out.loss], [featureDistillationReference(a, b)], 1e-5, 1e-4, "mse");
          const f = (x: number[]) => featureDistillationReference(x, b);
          assertClose(out.da, finiteDifferences(f, a), 1e-5, 1e-3, "grad");
        },
      ),
      { seed: 42, numRuns: 10 },
    );
  },
});

Deno.test({
  name: "distillations reject a teacher that does not match the student",
  ...gpuTestOptions,
  fn: async () => {
    const r = await runGpuResult(Effect.gen(function* () {
      const Z = parameter(yield* fromArray([0, 0, 0, 0, 0, 0], [1, 1, 2, 3], "f32"), "Z");
      return yield* unbiasedDistillation(Z, yield* fromArray([0, 0, 0], [1, 1, 1, 3], "f32"), 3);
    }));
    if (r._tag !== "Failure") throw new Error("accepted a teacher of the wrong size");
  },
});
