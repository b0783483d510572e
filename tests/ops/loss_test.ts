import fc from "fast-check";
import { Effect } from "effect";
import { crossEntropy, crossEntropyBackward } from "../../src/ops/cross_entropy.ts";
import type { Reduction } from "../../src/ops/loss.ts";
import { logSoftmax } from "../../src/ops/softmax.ts";
import {
  bceBackwardReference,
  bceReference,
  crossEntropyBackwardReference,
  crossEntropyReference,
  klBackwardReference,
  klReference,
} from "../reference/loss.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import {
  assertClose,
  assertCloseEdges,
  flushSubnormals,
  gpuTestOptions,
  runGpu,
} from "../support/gpu.ts";
import { ceAtol } from "../support/tolerances.ts";
import { edgeFloats, floats, shapeOf } from "../support/arbitrary.ts";

const reductions = fc.constantFrom<Reduction>("none", "sum", "mean");
const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** [N, H, W] pixel shape and a channel count (odd sizes included). */
const pixelShape = shapeOf(3, 6);

const finiteDifference = (f: (x: number[]) => number, x: number[], h = 1e-5): number[] =>
  x.map((_, i) => {
    const plus = [...x];
    const minus = [...x];
    plus[i] += h;
    minus[i] -= h;
    return (f(plus) - f(minus)) / (2 * h);
  });

// Labels: mostly valid, some 255 (ignore) and some out of range (bad).
const labelsFor = (pixels: number, channels: number) =>
  fc.array(
    fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0, max: channels - 1 }) },
      { weight: 2, arbitrary: fc.constant(255) },
      { weight: 1, arbitrary: fc.constantFrom(-1, channels, 300) },
    ),
    { minLength: pixels, maxLength: pixels },
  );

const ceCases = fc.record({
  shape: pixelShape,
  channels: fc.integer({ min: 1, max: 23 }),
  weighted: fc.boolean(),
  reduction: reductions,
}).chain((c) => {
  const p = sizeOf(c.shape);
  return fc.record({
    c: fc.constant(c),
    logits: floats(p * c.channels, 6),
    labels: labelsFor(p, c.channels),
    weights: floats(p, 2).map((w) => w.map(Math.abs)),
    g: floats(p, 2),
  });
});

const runCe = (
  logits: number[],
  labels: number[],
  shape: number[],
  channels: number,
  reduction: Reduction,
  weights: number[] | undefined,
  g: number[],
  meanOver: "valid" | "all" = "valid",
) =>
  runGpu(Effect.gen(function* () {
    const z = yield* fromArray(logits, [...shape, channels], "f32");
    const y = yield* fromArray(labels, shape, "i32");
    const w = weights ? yield* fromArray(weights, shape, "f32") : undefined;
    const options = { weights: w, reduction, meanOver };
    const r = yield* crossEntropy(z, y, options);
    const gt = yield* fromArray(reduction === "none" ? g : [g[0]], r.loss.shape, "f32");
    const dz = yield* crossEntropyBackward(z, y, gt, r.totals, options);
    return {
      loss: yield* download(r.loss),
      bad: (yield* download(r.badLabels))[0],
      dz: yield* download(dz),
    };
  }));

Deno.test({
  name:
    "cross-entropy forward, backward and bad-label count match the float64 reference (mean over valid or all pixels)",
  ...gpuTestOptions,
  fn: async () => {
    const cases = fc.record({
      k: ceCases,
      meanOver: fc.constantFrom<"valid" | "all">("valid", "all"),
    });
    await fc.assert(
      fc.asyncProperty(cases, async ({ k: { c, logits, labels, weights, g }, meanOver }) => {
        const w = c.weighted ? weights : undefined;
        const out = await runCe(logits, labels, c.shape, c.channels, c.reduction, w, g, meanOver);
        const options = { weights: w, reduction: c.reduction, meanOver };
        const ref = crossEntropyReference(logits, labels, c.channels, options);
        const gRef = c.reduction === "none" ? g : [g[0]];
        const atol = ceAtol(logits, labels, c.channels, gRef, options);
        assertClose(out.loss, ref.loss, atol.loss, 1e-5, "loss");
        if (out.bad !== ref.bad) throw new Error(`bad labels ${out.bad} vs ${ref.bad}`);
        const dzRef = crossEntropyBackwardReference(logits, labels, c.channels, gRef, options);
        assertClose(out.dz, dzRef, atol.dz, 1e-5, "dz");
      }),
      { seed: 42, numRuns: 40 },
    );
  },
});

// Edge logits: zeros, subnormals, +-1e4 (exp overflows without the max subtraction) and,
// on about one pixel in ten, a NaN. A NaN on a valid pixel must reach the loss (the run
// guard stops on a NaN loss) and that pixel's gradient; on an ignored or bad pixel it must
// reach nothing.
const ceEdgeCases = fc.record({
  shape: pixelShape,
  channels: fc.integer({ min: 1, max: 23 }),
  reduction: reductions,
}).chain((c) => {
  const p = sizeOf(c.shape);
  return fc.record({
    c: fc.constant(c),
    logits: edgeFloats(p * c.channels, 6, { large: 1e4 }),
    nanAt: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: p, maxLength: p }),
    labels: labelsFor(p, c.channels),
    g: floats(p, 2),
  });
});

Deno.test({
  name: "cross-entropy on edge logits: NaN reaches the loss from valid pixels only",
  ...gpuTestOptions,
  fn: async () => {
    let nanLosses = 0;
    let finiteLosses = 0;
    await fc.assert(
      fc.asyncProperty(ceEdgeCases, async ({ c, logits: raw, nanAt, labels, g }) => {
        const logits = raw.map((v, i) => (nanAt[Math.floor(i / c.channels)] === 0 ? NaN : v));
        const out = await runCe(logits, labels, c.shape, c.channels, c.reduction, undefined, g);
        const options = { reduction: c.reduction };
        const gRef = c.reduction === "none" ? g : [g[0]];
        const finite = logits.map((v) => (Number.isNaN(v) ? 0 : v));
        const atol = ceAtol(finite, labels, c.channels, gRef, options);
        const ref = crossEntropyReference(logits, labels, c.channels, options);
        const flushed = flushSubnormals(logits);
        const refFlushed = crossEntropyReference(flushed, labels, c.channels, options);
        assertCloseEdges(out.loss, [ref.loss, refFlushed.loss], atol.loss, 1e-5, "loss");
        const dzRef = crossEntropyBackwardReference(logits, labels, c.channels, gRef, options);
        const dzFlushed = crossEntropyBackwardReference(flushed, labels, c.channels, gRef, options);
        assertCloseEdges(out.dz, [dzRef, dzFlushed], atol.dz, 1e-5, "dz");
        if (out.loss.some(Number.isNaN)) nanLosses++;
        else finiteLosses++;
      }),
      { seed: 42, numRuns: 30 },
    );
    if (nanLosses < 5 || finiteLosses < 5) {
      throw new Error(`NaN losses in ${nanLosses} runs, finite in ${finiteLosses}: too few`);
    }
  },
});

Deno.test({
  name: "cross-entropy equals -log softmax at the label, and weights of 1 change nothing",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(ceCases, async ({ c, logits, labels }) => {
        const p = sizeOf(c.shape);
        const out = await runGpu(Effect.gen(function* () {
          const z = yield* fromArray(logits, [...c.shape, c.channels], "f32");
          const y = yield* fromArray(labels, c.shape, "i32");
          const ones = yield* fromArray(new Array(p).fill(1), c.shape, "f32");
          const map = (yield* crossEntropy(z, y, { reduction: "none" })).loss;
          const plain = (yield* crossEntropy(z, y, { reduction: c.reduction })).loss;
          const weighted = (yield* crossEntropy(z, y, { reduction: c.reduction, weights: ones }))
            .loss;
          return {
            map: yield* download(map),
            logp: yield* download(yield* logSoftmax(z)),
            plain: yield* download(plain),
            weighted: yield* download(weighted),
          };
        }));
        const expected = labels.map((y, i) =>
          y >= 0 && y < c.channels ? -out.logp[i * c.channels + y] : 0
        );
        assertClose(out.map, expected, 1e-5, 1e-5, "-log softmax");
        assertClose(out.weighted, out.plain, 0, 0, "weights of 1");
      }),
      { seed: 42, numRuns: 20 },
    );
  },
});

Deno.test({
  name: "cross-entropy is invariant to a permutation of the classes (logits permuted, relabelled)",
  ...gpuTestOptions,
  fn: async () => {
    const cases = ceCases.chain((k) =>
      fc.record({
        k: fc.constant(k),
        order: fc.shuffledSubarray(
          Array.from({ length: k.c.channels }, (_, i) => i),
          { minLength: k.c.channels, maxLength: k.c.channels },
        ),
      })
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ k: { c, logits, labels, g }, order }) => {
        // New class j is old class order[j]: logits move, labels are renamed.
        const p = sizeOf(c.shape);
        const inverse = new Array<number>(c.channels);
        order.forEach((old, j) => (inverse[old] = j));
        const permuted = Array.from(
          { length: p * c.channels },
          (_, i) => logits[Math.floor(i / c.channels) * c.channels + order[i % c.channels]],
        );
        const relabelled = labels.map((y) => (y >= 0 && y < c.channels ? inverse[y] : y));
        const a = await runCe(logits, labels, c.shape, c.channels, c.reduction, undefined, g);
        const b = await runCe(permuted, relabelled, c.shape, c.channels, c.reduction, undefined, g);
        assertClose(b.loss, a.loss, 1e-6, 1e-6, "loss");
        const dzBack = Array.from(
          { length: p * c.channels },
          (_, i) => b.dz[Math.floor(i / c.channels) * c.channels + inverse[i % c.channels]],
        );
        assertClose(dzBack, a.dz, 1e-7, 1e-6, "dz");
      }),
      { seed: 42, numRuns: 15 },
    );
  },
});

Deno.test({
  name: "ignored and bad pixels contribute nothing to the loss or the gradient",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(ceCases, fc.integer({ min: -50, max: 50 }), async (k, shift) => {
        const { c, logits, labels, g } = k;
        // Scrambling the logits of ignored pixels must not change anything else.
        const scrambled = logits.map((v, i) => {
          const y = labels[Math.floor(i / c.channels)];
          return y >= 0 && y < c.channels ? v : v * 3 + shift;
        });
        const a = await runCe(logits, labels, c.shape, c.channels, c.reduction, undefined, g);
        const b = await runCe(scrambled, labels, c.shape, c.channels, c.reduction, undefined, g);
        assertClose(b.loss, a.loss, 0, 0, "loss");
        assertClose(b.dz, a.dz, 0, 0, "dz");
        a.dz.forEach((d, i) => {
          const y = labels[Math.floor(i / c.channels)];
          if (!(y >= 0 && y < c.channels) && d !== 0) throw new Error(`gradient at ${i}`);
        });
      }),
      { seed: 42, numRuns: 15 },
    );
  },
});

Deno.test({
  name: "reference gradients of CE, KL and BCE equal central finite differences",
  fn: () => {
    const small = fc.record({
      p: fc.integer({ min: 1, max: 4 }),
      c: fc.integer({ min: 1, max: 5 }),
    })
      .chain(({ p, c }) =>
        fc.record({
          p: fc.constant(p),
          c: fc.constant(c),
          a: floats(p * c, 3),
          b: floats(p * c, 3),
          labels: labelsFor(p, c),
          weights: floats(p, 2),
          mask: floats(p, 1).map((m) => m.map(Math.abs)),
          reduction: reductions,
          g: floats(p * c, 1),
          t: fc.constantFrom(1, 0.5, 2.5),
        })
      );
    fc.assert(
      fc.property(small, (k) => {
        const g = k.reduction === "none" ? k.g.slice(0, k.p) : [1.3];
        const dot = (v: number[], w: number[]) => v.reduce((s, x, i) => s + x * w[i], 0);
        const ce = { weights: k.weights, reduction: k.reduction };
        const fCe = (z: number[]) => dot(crossEntropyReference(z, k.labels, k.c, ce).loss, g);
        assertClose(
          crossEntropyBackwardReference(k.a, k.labels, k.c, g, ce),
          finiteDifference(fCe, k.a),
          1e-7,
          1e-5,
          "CE",
        );
        for (const student of ["logits", "logProbs"] as const) {
          const o = {
            teacher: "logits" as const,
            student,
            temperature: k.t,
            mask: k.mask,
            reduction: k.reduction,
          };
          const grads = klBackwardReference(k.a, k.b, k.c, g, o);
          const fS = (s: number[]) => dot(klReference(k.a, s, k.c, o).loss, g);
          const fT = (t: number[]) => dot(klReference(t, k.b, k.c, o).loss, g);
          assertClose(grads.student, finiteDifference(fS, k.b), 1e-7, 1e-5, `KL ${student}`);
          assertClose(grads.teacher, finiteDifference(fT, k.a), 1e-7, 1e-5, "KL teacher");
        }
        const targets = k.b.map((v) => Math.abs(v) / 3);
        const gb = k.reduction === "none" ? k.g : [1.3];
        const fB = (x: number[]) => dot(bceReference(x, targets, k.reduction), gb);
        assertClose(
          bceBackwardReference(k.a, targets, gb, k.reduction),
          finiteDifference(fB, k.a),
          1e-7,
          1e-5,
          "BCE",
        );
      }),
      { seed: 42, numRuns: 60 },
    );
  },
});

Deno.test({
  name:
    "cross-entropy meanOver all: the valid-pixel mean scaled by valid / pixels (PLOP's loss.mean())",
  ...gpuTestOptions,
  fn: async () => {
    const shape = [1, 2, 3];
    const logits = [0.5, -1, 2, 0.3, 1, -0.2, 0, 0, 0.7, 3, -2, 1, 0.1, 0.2, 0.3, -1, 1, 0];
    const labels = [0, 255, 2, 1, 255, 0];
    const g = [1];
    const valid = await runCe(logits, labels, shape, 3, "mean", undefined, g, "valid");
    const all = await runCe(logits, labels, shape, 3, "mean", undefined, g, "all");
    assertClose(all.loss, [valid.loss[0] * 4 / 6], 1e-6, 1e-5, "loss");
    assertClose(all.dz, Array.from(valid.dz, (d) => d * 4 / 6), 1e-7, 1e-5, "dz");
  },
});
