import fc from "fast-check";
import { Effect } from "effect";
import { ssrdLoss, type SsrdOptions } from "../../../src/incremental/gsc/ssrd.ts";
import { constant, grad, parameter } from "../../../src/autograd/tape.ts";
import {
  ssrdGradientReference,
  ssrdReference,
  type SsrdReferenceSpec,
} from "../../../src/ops/reference/gsc.ts";
import { download, fromArray } from "../../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../../support/gpu.ts";
import { floats, seededValues, shapeOf } from "../../support/arbitrary.ts";

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

const defaults: SsrdOptions = { tSoft: 2, tSharp: 0.5, lambdaSoft: 1, lambdaSharp: 1 };

/** Old classes, new classes, targets mixing old, new, 255 and out-of-range labels. */
const cases = fc.record({
  shape: shapeOf(3, 5),
  oldClasses: fc.integer({ min: 1, max: 6 }),
  newClasses: fc.integer({ min: 0, max: 3 }),
  options: fc.record({
    tSoft: fc.constantFrom<number>(1, 2, 3),
    tSharp: fc.constantFrom<number>(0.5, 1),
    lambdaSoft: fc.constantFrom<number>(0.5, 1),
    lambdaSharp: fc.constantFrom<number>(1, 2),
  }),
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
        { weight: 1, arbitrary: fc.constantFrom(255, -1) },
      ),
      { minLength: p, maxLength: p },
    ),
  });
});

type Case = typeof cases extends fc.Arbitrary<infer T> ? T : never;

const specOf = (c: Case["c"], options: SsrdOptions = c.options): SsrdReferenceSpec => ({
  channels: c.channels,
  oldClasses: c.oldClasses,
  newClassesStart: c.oldClasses,
  ...options,
});

/** Loss, terms and the gradient with respect to the new logits, on the GPU. */
const runSsrd = (
  k: { c: Case["c"]; newLogits: number[]; oldLogits: number[]; targets: number[] },
  options: SsrdOptions,
) =>
  runGpu(Effect.gen(function* () {
    const { c } = k;
    const z = parameter(yield* fromArray(k.newLogits, [...c.shape, c.channels], "f32"), "z");
    const old = yield* fromArray(k.oldLogits, [...c.shape, c.oldClasses], "f32");
    const targets = yield* fromArray(k.targets, c.shape, "i32");
    const r = yield* ssrdLoss(z, old, targets, c.oldClasses, c.oldClasses, options);
    const [dz] = yield* grad(r.loss, [z]);
    return {
      loss: (yield* download(r.loss.value))[0],
      soft: (yield* download(r.soft.value))[0],
      sharp: (yield* download(r.sharp.value))[0],
      dz: yield* download(dz),
    };
  }));

Deno.test(
  "ssrd: GPU loss, terms and gradient match the float64 reference",
  gpuTestOptions,
  async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (k) => {
        const got = await runSsrd(k, k.c.options);
        const spec = specOf(k.c);
        const want = ssrdReference(k.newLogits, k.oldLogits, k.targets, spec);
        assertClose(
          [got.loss, got.soft, got.sharp],
          [want.loss, want.soft, want.sharp],
          1e-5,
          1e-4,
          "loss",
        );
        const dz = ssrdGradientReference(k.newLogits, k.oldLogits, k.targets, spec);
        assertClose(got.dz, dz, 1e-6, 1e-3, "gradient");
      }),
      { seed: 42, numRuns: 30 },
    );
  },
);

Deno.test("ssrd: the float64 gradient equals central finite differences", () => {
  fc.assert(
    fc.property(cases, (k) => {
      const spec = specOf(k.c);
      const analytic = ssrdGradientReference(k.newLogits, k.oldLogits, k.targets, spec);
      const h = 1e-6;
      k.newLogits.forEach((_, i) => {
        const plus = [...k.newLogits];
        const minus = [...k.newLogits];
        plus[i] += h;
        minus[i] -= h;
        const fd = (ssrdReference(plus, k.oldLogits, k.targets, spec).loss -
          ssrdReference(minus, k.oldLogits, k.targets, spec).loss) / (2 * h);
        if (Math.abs(fd - analytic[i]) > 1e-6 + 1e-5 * Math.abs(fd)) {
          throw new Error(`logit ${i}: analytic ${analytic[i]}, finite difference ${fd}`);
        }
      });
    }),
    { seed: 42, numRuns: 40 },
  );
});

Deno.test("ssrd: never negative", gpuTestOptions, async () => {
  await fc.assert(
    fc.asyncProperty(cases, async (k) => {
      const got = await runSsrd(k, k.c.options);
      // KL >= 0 up to f32 rounding of terms that cancel.
      if (got.soft < -1e-6 || got.sharp < -1e-6) throw new Error(JSON.stringify(got));
      const want = ssrdReference(k.newLogits, k.oldLogits, k.targets, specOf(k.c));
      if (want.soft < 0 || want.sharp < 0) throw new Error(JSON.stringify(want));
    }),
    { seed: 42, numRuns: 20 },
  );
});

Deno.test(
  "ssrd: zero when the student's unbiased distribution equals the teacher's",
  gpuTestOptions,
  async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (k) => {
        const { c } = k;
        const pixels = k.targets.length;
        // Soft term alone: no new classes and z = z', so q at Tsoft is the teacher at Tsoft.
        const same = { c: { ...c, channels: c.oldClasses }, newLogits: k.oldLogits };
        const soft = await runSsrd({ ...k, ...same }, { ...c.options, lambdaSharp: 0 });
        assertClose([soft.loss, soft.soft], [0, 0], 1e-6, 0, "soft");
        assertClose(soft.dz, new Float32Array(soft.dz.length), 1e-6, 0, "soft gradient");
        // Sharp term alone, with new classes: u = z' / Tsharp, the background mass split
        // between class 0 and the new classes (each new logit well below the merged one).
        const z: number[] = [];
        for (let p = 0; p < pixels; p++) {
          const u = k.oldLogits.slice(p * c.oldClasses, (p + 1) * c.oldClasses).map((v) =>
            v / c.options.tSharp
          );
          const fresh = Array.from({ length: c.newClasses }, (_, n) => u[0] - 2 - n);
          const rest = fresh.reduce((a, v) => a + Math.exp(v - u[0]), 0);
          z.push(u[0] + Math.log(1 - rest), ...u.slice(1), ...fresh);
        }
        const sharp = await runSsrd({ ...k, newLogits: z }, { ...c.options, lambdaSoft: 0 });
        assertClose([sharp.loss, sharp.sharp], [0, 0], 1e-5, 0, "sharp");
        assertClose(sharp.dz, new Float32Array(sharp.dz.length), 1e-5, 0, "sharp gradient");
      }),
      { seed: 42, numRuns: 20 },
    );
  },
);

Deno.test(
  "ssrd: constant student logits get no gradient and the loss still runs",
  gpuTestOptions,
  async () => {
    const loss = await runGpu(Effect.gen(function* () {
      const z = constant(yield* fromArray([1, 2, 3, 0, 1, -1], [1, 1, 2, 3], "f32"));
      const old = yield* fromArray([0.5, 1, -1, 2], [1, 1, 2, 2], "f32");
      const targets = yield* fromArray([0, 1], [1, 1, 2], "i32");
      const r = yield* ssrdLoss(z, old, targets, 2, 2, defaults);
      return { requiresGrad: r.loss.requiresGrad, value: (yield* download(r.loss.value))[0] };
    }));
    if (loss.requiresGrad) throw new Error("a constant student recorded a graph");
    const want = ssrdReference([1, 2, 3, 0, 1, -1], [0.5, 1, -1, 2], [0, 1], {
      channels: 3,
      oldClasses: 2,
      newClassesStart: 2,
      ...defaults,
    });
    assertClose([loss.value], [want.loss], 1e-5, 1e-5, "loss");
  },
);

Deno.test(
  "ssrd: a larger batch (several pixel chunks, 16 old classes) matches the reference",
  gpuTestOptions,
  async () => {
    const shape = [2, 23, 29];
    const pixels = sizeOf(shape);
    const c = { shape, oldClasses: 16, newClasses: 5, channels: 21, options: defaults };
    const k = {
      c,
      newLogits: Array.from(seededValues(pixels * c.channels, 11, 4)),
      oldLogits: Array.from(seededValues(pixels * c.oldClasses, 12, 4)),
      targets: Array.from(
        seededValues(pixels, 13),
        (v) => v < -0.9 ? 255 : Math.floor((v + 1) * 10.5),
      ),
    };
    const got = await runSsrd(k, defaults);
    const spec = specOf(c);
    const want = ssrdReference(k.newLogits, k.oldLogits, k.targets, spec);
    assertClose(
      [got.loss, got.soft, got.sharp],
      [want.loss, want.soft, want.sharp],
      1e-5,
      1e-4,
      "loss",
    );
    const dz = ssrdGradientReference(k.newLogits, k.oldLogits, k.targets, spec);
    assertClose(got.dz, dz, 1e-7, 1e-3, "gradient");
  },
);
