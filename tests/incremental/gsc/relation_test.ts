import fc from "fast-check";
import { Effect } from "effect";
import { ssrdRelation } from "../../../src/autograd/ssrd.ts";
import { grad, parameter } from "../../../src/autograd/tape.ts";
import { ssrdRelationGradientReference, ssrdRelationReference } from "../../reference/gsc.ts";
import { download, fromArray } from "../../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../../support/gpu.ts";
import { floats, floatsIn, shapeOf } from "../../support/arbitrary.ts";

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Old and new classes, targets mixing old, new and 255 labels, SGC-like weights. */
const cases = fc.record({
  shape: shapeOf(3, 5),
  oldClasses: fc.integer({ min: 1, max: 6 }),
  newClasses: fc.integer({ min: 0, max: 3 }),
}).chain((c) => {
  const p = sizeOf(c.shape);
  const channels = c.oldClasses + c.newClasses;
  return fc.record({
    c: fc.constant({ ...c, channels }),
    newLogits: floats(p * channels, 4),
    oldLogits: floats(p * c.oldClasses, 4),
    targets: fc.array(
      fc.oneof(
        { weight: 6, arbitrary: fc.integer({ min: 0, max: channels - 1 }) },
        { weight: 1, arbitrary: fc.constant(255) },
      ),
      { minLength: p, maxLength: p },
    ),
    weights: floatsIn(p, 0.5, 1.2),
  });
});

type Case = typeof cases extends fc.Arbitrary<infer T> ? T : never;

const reference = (k: Case) => ({
  loss: ssrdRelationReference(k.newLogits, k.oldLogits, k.targets, k.weights, k.c.channels),
  dz: ssrdRelationGradientReference(
    k.newLogits,
    k.oldLogits,
    k.targets,
    k.weights,
    k.c.channels,
  ),
});

/** The term and its gradient with respect to the new logits, on the GPU. */
const runRelation = (k: Case) =>
  runGpu(Effect.gen(function* () {
    const { c } = k;
    const z = parameter(yield* fromArray(k.newLogits, [...c.shape, c.channels], "f32"), "z");
    const old = yield* fromArray(k.oldLogits, [...c.shape, c.oldClasses], "f32");
    const targets = yield* fromArray(k.targets, c.shape, "i32");
    const weights = yield* fromArray(k.weights, c.shape, "f32");
    const term = yield* ssrdRelation(z, old, targets, weights);
    const [dz] = yield* grad(term, [z]);
    return { loss: (yield* download(term.value))[0], dz: yield* download(dz) };
  }));

Deno.test(
  "ssrd relation: the GPU term and gradient match the float64 reference",
  gpuTestOptions,
  async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (k) => {
        const got = await runRelation(k);
        const want = reference(k);
        assertClose([got.loss], [want.loss], 1e-6, 1e-4, "term");
        assertClose(got.dz, want.dz, 1e-6, 1e-3, "gradient");
      }),
      { seed: 42, numRuns: 30 },
    );
  },
);

Deno.test("ssrd relation: the float64 gradient equals central finite differences", () => {
  fc.assert(
    fc.property(cases, (k) => {
      const analytic = reference(k).dz;
      const h = 1e-7;
      k.newLogits.forEach((_, i) => {
        const plus = { ...k, newLogits: [...k.newLogits] };
        const minus = { ...k, newLogits: [...k.newLogits] };
        plus.newLogits[i] += h;
        minus.newLogits[i] -= h;
        const fd = (reference(plus).loss - reference(minus).loss) / (2 * h);
        if (Math.abs(fd - analytic[i]) > 1e-6 + 1e-5 * Math.abs(fd)) {
          throw new Error(`logit ${i}: analytic ${analytic[i]}, finite difference ${fd}`);
        }
      });
    }),
    { seed: 42, numRuns: 40 },
  );
});

Deno.test("ssrd relation: nonnegative, 0 with zero weights, proportional to the weights' scale", () => {
  fc.assert(
    fc.property(cases, fc.constantFrom(0.5, 2, 3), (k, s) => {
      const { loss } = reference(k);
      if (!(loss >= 0)) throw new Error(`negative term ${loss}`);
      const zero = ssrdRelationReference(
        k.newLogits,
        k.oldLogits,
        k.targets,
        k.weights.map(() => 0),
        k.c.channels,
      );
      assertClose([zero], [0], 0, 0, "zero weights");
      const scaled = ssrdRelationReference(
        k.newLogits,
        k.oldLogits,
        k.targets,
        k.weights.map((w) => s * w),
        k.c.channels,
      );
      assertClose([scaled], [s * loss], 1e-12, 1e-12, "scaled weights");
    }),
    { seed: 42, numRuns: 40 },
  );
});

Deno.test(
  "ssrd relation: 0 on the GPU when the student is the teacher and the targets its predictions",
  gpuTestOptions,
  async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (k) => {
        const { channels } = k.c;
        const p = k.targets.length;
        // The teacher has every channel, and each target is the student's first argmax:
        // every class's two means are over the same pixels and the same probabilities.
        const targets = Array.from({ length: p }, (_, i) => {
          const z = k.newLogits.slice(i * channels, (i + 1) * channels);
          return z.reduce((best, v, j) => (v > z[best] ? j : best), 0);
        });
        const same = { ...k, c: { ...k.c, oldClasses: channels }, oldLogits: k.newLogits, targets };
        const got = await runRelation(same);
        assertClose([got.loss], [0], 0, 0, "term");
        assertClose(got.dz, new Float64Array(got.dz.length), 0, 0, "gradient");
      }),
      { seed: 7, numRuns: 15 },
    );
  },
);
