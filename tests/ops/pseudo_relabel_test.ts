import fc from "fast-check";
import { Effect } from "effect";
import { prototypeCorrectedLogits } from "../../src/ops/pseudo_relabel.ts";
import { plopPseudoLabels } from "../../src/ops/pseudo_labels.ts";
import { correctedLogitsReference, correctedPosteriorReference } from "../reference/gsc.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { floats, shapeOf } from "../support/arbitrary.ts";

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

const softmax = (z: readonly number[]) => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

/** Labels of a step: background 0, ignore 255 and the current classes [Cold, Cold + new). */
const cases = fc.record({
  shape: shapeOf(3, 6),
  oldClasses: fc.integer({ min: 2, max: 7 }),
  newClasses: fc.integer({ min: 1, max: 3 }),
  width: fc.integer({ min: 1, max: 13 }),
  tau: fc.constantFrom(0.5, 1, 2),
}).chain((c) => {
  const p = sizeOf(c.shape);
  return fc.record({
    c: fc.constant(c),
    labels: fc.array(
      fc.oneof(
        { weight: 6, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.constant(255) },
        {
          weight: 2,
          arbitrary: fc.integer({ min: c.oldClasses, max: c.oldClasses + c.newClasses - 1 }),
        },
      ),
      { minLength: p, maxLength: p },
    ),
    oldLogits: floats(p * c.oldClasses, 3),
    features: floats(p * c.width, 2),
    prototypes: floats(c.oldClasses * c.width, 1),
    valid: fc.array(fc.constantFrom<number>(0, 1, 1, 1), {
      minLength: c.oldClasses,
      maxLength: c.oldClasses,
    }),
    thresholds: fc.array(fc.double({ min: 0, max: 0.2, noNaN: true }), {
      minLength: c.oldClasses,
      maxLength: c.oldClasses,
    }),
  });
});

type Case = typeof cases extends fc.Arbitrary<infer T> ? T : never;

/** PPR on the GPU: the corrected logits and PLOP's pseudo labels from them. */
const runPpr = (k: Case, validType: "u32" | "i32" = "u32") =>
  runGpu(Effect.gen(function* () {
    const { c } = k;
    const labels = yield* fromArray(k.labels, c.shape, "i32");
    const logits = yield* fromArray(k.oldLogits, [...c.shape, c.oldClasses], "f32");
    const features = yield* fromArray(k.features, [...c.shape, c.width], "f32");
    const prototypes = yield* fromArray(k.prototypes, [c.oldClasses, c.width], "f32");
    const valid = yield* fromArray(k.valid, [c.oldClasses], validType);
    const corrected = yield* prototypeCorrectedLogits(logits, features, prototypes, valid, {
      tau: c.tau,
    });
    const thresholds = yield* fromArray(k.thresholds, [c.oldClasses], "f32");
    const pseudo = yield* plopPseudoLabels(corrected, labels, thresholds, c.oldClasses, {
      seenClasses: c.oldClasses + c.newClasses,
    });
    return { corrected: yield* download(corrected), targets: yield* download(pseudo.targets) };
  }));

const reference = (k: Case) =>
  correctedLogitsReference(
    k.oldLogits,
    k.features,
    k.prototypes,
    k.valid,
    k.c.oldClasses,
    k.c.width,
    k.c.tau,
  );

Deno.test(
  "ppr: GPU corrected logits match the float64 reference (u32 and i32 flags)",
  gpuTestOptions,
  async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (k) => {
        const want = reference(k);
        for (const type of ["u32", "i32"] as const) {
          assertClose((await runPpr(k, type)).corrected, want, 1e-5, 1e-5, `corrected ${type}`);
        }
      }),
      { seed: 42, numRuns: 25 },
    );
  },
);

Deno.test("ppr: softmax of the corrected logits is p' * kappa, renormalised", () => {
  fc.assert(
    fc.property(cases, (k) => {
      const { c } = k;
      const corrected = reference(k);
      for (let p = 0; p < k.labels.length; p++) {
        const at = (a: ArrayLike<number>, w: number) =>
          Array.from({ length: w }, (_, j) => a[p * w + j]);
        const got = softmax(at(corrected, c.oldClasses));
        const want = correctedPosteriorReference(
          at(k.oldLogits, c.oldClasses),
          at(k.features, c.width),
          k.prototypes,
          k.valid,
          c.tau,
        );
        assertClose(got, want, 1e-12, 1e-9, `pixel ${p}`);
      }
    }),
    { seed: 42, numRuns: 40 },
  );
});

Deno.test("ppr: without a valid prototype the posterior is the old model's", () => {
  fc.assert(
    fc.property(cases, (k) => {
      const none = { ...k, valid: k.valid.map(() => 0) };
      assertClose(reference(none), k.oldLogits, 0, 0, "corrected logits");
    }),
    { seed: 42, numRuns: 20 },
  );
});

Deno.test(
  "ppr: never touches current-class or 255 pixels; background becomes an old class or 255",
  gpuTestOptions,
  async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (k) => {
        const { targets } = await runPpr(k);
        k.labels.forEach((y, p) => {
          const t = targets[p];
          if (y !== 0) {
            if (t !== y) throw new Error(`pixel ${p}: label ${y} became ${t}`);
          } else if (!(t === 255 || (t >= 0 && t < k.c.oldClasses))) {
            throw new Error(`background pixel ${p} became ${t}`);
          }
        });
      }),
      { seed: 42, numRuns: 25 },
    );
  },
);

Deno.test(
  "ppr: an uncertain background pixel becomes 255, a confident one keeps 0",
  gpuTestOptions,
  async () => {
    // Two background pixels whose corrected posterior favours class 0: one sharp, one flat.
    const k: Case = {
      c: { shape: [1, 1, 2], oldClasses: 3, newClasses: 1, width: 2, tau: 1 },
      labels: [0, 0],
      oldLogits: [9, 0, 0, 0.2, 0, 0],
      features: [1, 0, 1, 0],
      prototypes: [1, 0, 0, 1, -1, 0],
      valid: [1, 1, 1],
      thresholds: [0.05, 0.05, 0.05],
    };
    const { targets } = await runPpr(k);
    if (targets[0] !== 0 || targets[1] !== 255) throw new Error(`targets ${targets}`);
  },
);
