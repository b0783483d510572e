// The KL divergence (masks, temperatures) and binary cross-entropy against their float64 references.
import fc from "fast-check";
import { Effect } from "effect";
import { crossEntropy } from "../../src/ops/cross_entropy.ts";
import { klDivergence, klDivergenceBackward, type KlOptions } from "../../src/ops/kl.ts";
import { bceWithLogits, bceWithLogitsBackward } from "../../src/ops/bce.ts";
import {
  bceBackwardReference,
  bceReference,
  crossEntropyReference,
  klBackwardReference,
  klReference,
} from "../reference/loss.ts";
import { download, fromArray, type Tensor } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { bceAtol, klAtol } from "../support/tolerances.ts";
import { floats, seededValues, shapeOf } from "../support/arbitrary.ts";
import type { Reduction } from "../../src/ops/loss.ts";

const reductions = fc.constantFrom<Reduction>("none", "sum", "mean");
const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** [N, H, W] pixel shape and a channel count (odd sizes included). */
const pixelShape = shapeOf(3, 6);

// Probabilities with some exact zeros (the p log p = 0 limit must hold).
const probsOf = (raw: number[], channels: number) => {
  const out: number[] = [];
  for (let base = 0; base < raw.length; base += channels) {
    const row: number[] = raw.slice(base, base + channels).map((v) => (v < -2 ? 0 : Math.exp(v)));
    if (!row.some((v) => v > 0)) row[0] = 1;
    const s = row.reduce((a, b) => a + b, 0);
    out.push(...row.map((v) => Math.fround(v / s)));
  }
  return out;
};

const klCases = fc.record({
  shape: pixelShape,
  channels: fc.integer({ min: 1, max: 19 }),
  teacher: fc.constantFrom<"probs" | "logits">("probs", "logits"),
  student: fc.constantFrom<"logits" | "logProbs">("logits", "logProbs"),
  temperature: fc.constantFrom(1, 2, 0.7),
  mask: fc.constantFrom<"none" | "f32" | "i32">("none", "f32", "i32"),
  reduction: reductions,
}).chain((c) => {
  const p = sizeOf(c.shape);
  return fc.record({
    c: fc.constant(c),
    t: floats(p * c.channels, 4),
    s: floats(p * c.channels, 4),
    m: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: p, maxLength: p }),
    g: floats(p, 2),
  });
});

Deno.test({
  name: "KL divergence and its gradients match the float64 reference",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(klCases, async ({ c, t, s, m, g }) => {
        const teacher = c.teacher === "probs" ? probsOf(t, c.channels) : t;
        // Log-probabilities for the student when asked: a log-softmax of the raw values.
        const student = c.student === "logProbs"
          ? probsOf(s, c.channels).map((v) => (v > 0 ? Math.fround(Math.log(v)) : -30))
          : s;
        const full = [...c.shape, c.channels];
        const teacherGrad = c.teacher === "logits";

        const out = await runGpu(Effect.gen(function* () {
          const tt = yield* fromArray(teacher, full, "f32");
          const st = yield* fromArray(student, full, "f32");
          const mask: Tensor<"f32"> | Tensor<"i32"> | undefined = c.mask === "none"
            ? undefined
            : c.mask === "f32"
            ? yield* fromArray(m.map((v) => v / 2), c.shape, "f32")
            : yield* fromArray(m.map((v) => v - 1), c.shape, "i32");
          const options: KlOptions = { ...c, mask };
          const r = yield* klDivergence(tt, st, options);
          const gt = yield* fromArray(c.reduction === "none" ? g : [g[0]], r.loss.shape, "f32");
          const d = yield* klDivergenceBackward(tt, st, gt, r.totals, options, teacherGrad);
          return {
            loss: yield* download(r.loss),
            ds: yield* download(d.student),
            dt: d.teacher ? yield* download(d.teacher) : undefined,
          };
        }));
        const options = {
          ...c,
          mask: c.mask === "none"
            ? undefined
            : c.mask === "f32"
            ? m.map((v) => v / 2)
            : m.map((v) => v - 1),
          integerMask: c.mask === "i32",
        };
        const gRef = c.reduction === "none" ? g : [g[0]];
        const atol = klAtol(teacher, student, c.channels, gRef, options);
        const loss = klReference(teacher, student, c.channels, options).loss;
        assertClose(out.loss, loss, atol.loss, 1e-5, "loss");
        const grads = klBackwardReference(teacher, student, c.channels, gRef, options);
        assertClose(out.ds, grads.student, atol.ds, 1e-5, "student");
        if (teacherGrad) assertClose(out.dt!, grads.teacher, atol.dt, 1e-5, "teacher");
      }),
      { seed: 42, numRuns: 40 },
    );
  },
});

Deno.test({
  name: "KL is zero when teacher equals student and never negative",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(klCases, async ({ c, t, s }) => {
        const full = [...c.shape, c.channels];
        const out = await runGpu(Effect.gen(function* () {
          const tt = yield* fromArray(t, full, "f32");
          const st = yield* fromArray(s, full, "f32");
          const o = { temperature: c.temperature, reduction: "none" as const };
          const same = yield* klDivergence(tt, tt, { ...o, teacher: "logits" });
          const probs = yield* fromArray(probsOf(t, c.channels), full, "f32");
          const sameProbs = yield* klDivergence(probs, st, { ...o, teacher: "probs" });
          const lp = yield* fromArray(
            probsOf(t, c.channels).map((v) => (v > 0 ? Math.log(v) : -60)),
            full,
            "f32",
          );
          const selfProbs = yield* klDivergence(probs, lp, { ...o, student: "logProbs" });
          const differ = yield* klDivergence(tt, st, { ...o, teacher: "logits" });
          return {
            same: yield* download(same.loss),
            selfProbs: yield* download(selfProbs.loss),
            other: yield* download(sameProbs.loss),
            differ: yield* download(differ.loss),
          };
        }));
        assertClose(out.same, new Array(out.same.length).fill(0), 2e-6, 0, "KL(p || p)");
        assertClose(out.selfProbs, new Array(out.same.length).fill(0), 2e-6, 0, "KL(p || p)");
        for (const v of [...out.other, ...out.differ]) {
          if (!(v >= -2e-6)) throw new Error(`negative KL ${v}`);
        }
      }),
      { seed: 42, numRuns: 20 },
    );
  },
});

Deno.test({
  name: "BCE with logits and its gradient match the float64 reference",
  ...gpuTestOptions,
  fn: async () => {
    const cases = fc.record({ shape: shapeOf(4, 5), reduction: reductions }).chain((c) =>
      fc.record({
        c: fc.constant(c),
        x: floats(sizeOf(c.shape), 30),
        y: fc.array(fc.constantFrom(0, 1, 0.25), {
          minLength: sizeOf(c.shape),
          maxLength: sizeOf(c.shape),
        }),
        g: floats(sizeOf(c.shape), 2),
      })
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ c, x, y, g }) => {
        const gRef = c.reduction === "none" ? g : [g[0]];
        const out = await runGpu(Effect.gen(function* () {
          const xt = yield* fromArray(x, c.shape, "f32");
          const yt = yield* fromArray(y, c.shape, "f32");
          const r = yield* bceWithLogits(xt, yt, c.reduction);
          const gt = yield* fromArray(gRef, r.loss.shape, "f32");
          const dx = yield* bceWithLogitsBackward(xt, yt, gt, r.totals, c.reduction);
          return { loss: yield* download(r.loss), dx: yield* download(dx) };
        }));
        const atol = bceAtol(x, y, gRef, c.reduction);
        assertClose(out.loss, bceReference(x, y, c.reduction), atol.loss, 0, "loss");
        assertClose(out.dx, bceBackwardReference(x, y, gRef, c.reduction), atol.dx, 1e-5, "dx");
      }),
      { seed: 42, numRuns: 30 },
    );
  },
});

Deno.test({
  name: "cross-entropy at 8x128x128 pixels, 21 classes, matches the reference",
  ...gpuTestOptions,
  fn: async () => {
    const shape = [8, 128, 128];
    const p = sizeOf(shape);
    const c = 21;
    const logits = seededValues(p * c, 7, 5);
    const raw = seededValues(p, 11, 1);
    const labels = Array.from(raw, (v) => (v > 0.8 ? 255 : Math.floor((v + 1) * 10.5) % c));
    const out = await runGpu(Effect.gen(function* () {
      const z = yield* fromArray(logits, [...shape, c], "f32");
      const y = yield* fromArray(labels, shape, "i32");
      const r = yield* crossEntropy(z, y);
      return { loss: yield* download(r.loss), bad: yield* download(r.badLabels) };
    }));
    const ref = crossEntropyReference(logits, labels, c);
    assertClose(out.loss, ref.loss, 0, 1e-5, "loss");
    assertClose(out.bad, [0], 0, 0, "bad");
  },
});
