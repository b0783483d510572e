import fc from "fast-check";
import { Effect } from "effect";
import { sgcWeights, sgcWeightsUnclipped } from "../../src/ops/sgc.ts";
import { sgcWeightsReference } from "../reference/gsc.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { floats, seededValues, shapeOf } from "../support/arbitrary.ts";

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** A step t >= 1, classes with their steps (step(0) = 0, every step has a class), targets. */
const cases = fc.record({
  shape: shapeOf(3, 7),
  step: fc.integer({ min: 1, max: 4 }),
  extra: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 6 }),
  clip: fc.boolean(),
  withBase: fc.boolean(),
}).chain((c) => {
  const classStep = [0, ...Array.from({ length: c.step }, (_, k) => k + 1)];
  for (const e of c.extra) classStep.push(Math.min(e, c.step));
  const channels = classStep.length;
  const p = sizeOf(c.shape);
  return fc.record({
    c: fc.constant({ ...c, classStep, channels }),
    logits: floats(p * channels, 5),
    base: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: p, maxLength: p }),
    targets: fc.array(
      fc.oneof(
        { weight: 9, arbitrary: fc.integer({ min: 0, max: channels - 1 }) },
        { weight: 1, arbitrary: fc.constantFrom(255, -1, channels) },
      ),
      { minLength: p, maxLength: p },
    ),
  });
});

const options = { zeta: 0.6, min: 0.5, max: 1.2 };

const runWeights = (
  shape: readonly number[],
  logits: readonly number[],
  targets: readonly number[],
  classStep: readonly number[],
  o: { step: number; zeta: number; min: number; max: number; clip?: boolean },
  base?: readonly number[],
) =>
  runGpu(Effect.gen(function* () {
    const z = yield* fromArray(logits, [...shape, classStep.length], "f32");
    const y = yield* fromArray(targets, shape, "i32");
    const steps = yield* fromArray(classStep, [classStep.length], "i32");
    const b = base ? yield* fromArray(base, shape, "f32") : undefined;
    const w = o.clip === false
      ? yield* sgcWeightsUnclipped(z, y, steps, o)
      : yield* sgcWeights(z, y, steps, o, b);
    return yield* download(w);
  }));

Deno.test(
  "sgc: GPU weights match the float64 reference (clamped and not, with PLOP's factor or not)",
  gpuTestOptions,
  async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ c, logits, targets, base }) => {
        const o = { ...options, step: c.step, zeta: c.step / c.channels, clip: c.clip };
        const b = c.withBase && c.clip ? base : undefined;
        const got = await runWeights(c.shape, logits, targets, c.classStep, o, b);
        const want = sgcWeightsReference(logits, targets, c.classStep, c.channels, o, b);
        assertClose(got, want, 1e-5, 1e-4, "weights");
      }),
      { seed: 42, numRuns: 30 },
    );
  },
);

Deno.test(
  "sgc: unclamped weights average 1 in every old step's group; 1 elsewhere",
  gpuTestOptions,
  async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ c, logits, targets }) => {
        const o = { ...options, step: c.step, clip: false };
        const got = await runWeights(c.shape, logits, targets, c.classStep, o);
        const groups = new Map<number, number[]>();
        targets.forEach((y, p) => {
          const k = y >= 0 && y < c.channels ? c.classStep[y] : -1;
          if (k < 0 || k >= c.step) {
            if (got[p] !== 1) throw new Error(`pixel ${p} (target ${y}) has weight ${got[p]}`);
            return;
          }
          groups.set(k, [...(groups.get(k) ?? []), got[p]]);
        });
        for (const [k, w] of groups) {
          const mean = w.reduce((a, b) => a + b, 0) / w.length;
          // v / mean(v) averages 1 exactly; f32 sums leave a few ulps (a group of zeros: all 1).
          if (Math.abs(mean - 1) > 1e-5) throw new Error(`step ${k}: mean weight ${mean}`);
        }
      }),
      { seed: 42, numRuns: 30 },
    );
  },
);

Deno.test("sgc: clamped into [min, max]; all 1 at step 0", gpuTestOptions, async () => {
  await fc.assert(
    fc.asyncProperty(cases, async ({ c, logits, targets }) => {
      const clipped = await runWeights(c.shape, logits, targets, c.classStep, {
        ...options,
        step: c.step,
        min: 0.8,
        max: 1.25,
      });
      for (const w of clipped) if (w < 0.8 || w > 1.25) throw new Error(`weight ${w}`);
      const first = await runWeights(c.shape, logits, targets, c.classStep, {
        ...options,
        step: 0,
      });
      if (!first.every((w) => w === 1)) throw new Error("step 0 weights are not all 1");
    }),
    { seed: 42, numRuns: 15 },
  );
});

Deno.test(
  "sgc: a larger batch (several pixel chunks) matches the reference",
  gpuTestOptions,
  async () => {
    const shape = [3, 31, 27];
    const pixels = sizeOf(shape);
    const classStep = [0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 3];
    const logits = Array.from(seededValues(pixels * classStep.length, 21, 5));
    const targets = Array.from(
      seededValues(pixels, 22),
      (v) => v < -0.9 ? 255 : Math.floor((v + 1) * 5.5),
    );
    const o = { ...options, step: 3, zeta: 8 / 11 };
    const got = await runWeights(shape, logits, targets, classStep, o);
    assertClose(got, sgcWeightsReference(logits, targets, classStep, 11, o), 1e-5, 1e-4, "weights");
  },
);

Deno.test("sgc: the float64 gain is log(1 + g^zeta), rising with g; HFC's clamp by default", () => {
  // Two old pixels of one group: the less confident one gets the larger weight.
  const logits = [3, 0, 0, 1, 0, 0];
  const w = sgcWeightsReference(logits, [0, 0], [0, 0, 1], 3, {
    step: 1,
    zeta: 2 / 3,
    min: 0.5,
    max: 1.2,
    clip: false,
  });
  const g = (z: number[]) => 1 - Math.exp(z[0]) / z.reduce((a, v) => a + Math.exp(v), 0);
  const v = [g([3, 0, 0]), g([1, 0, 0])].map((x) => Math.log(1 + Math.pow(x, 2 / 3)));
  const mean = (v[0] + v[1]) / 2;
  assertClose(w, [v[0] / mean, v[1] / mean], 1e-12, 0, "weights");
  if (!(w[1] > w[0])) throw new Error(`weights ${w}`);
});
