import fc from "fast-check";
import { Effect } from "effect";
import { crossEntropy } from "../../../src/autograd/losses.ts";
import { grad, parameter } from "../../../src/autograd/tape.ts";
import { unbiasedCrossEntropy } from "../../../src/incremental/losses/mod.ts";
import {
  unbiasedCrossEntropyBackwardReference,
  unbiasedCrossEntropyReference,
} from "../../reference/incremental.ts";
import { finiteDifferences } from "../../reference/plop.ts";
import { download, fromArray } from "../../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu, runGpuResult } from "../../support/gpu.ts";
import { floats } from "../../support/arbitrary.ts";

/** Runs the unbiased CE on the GPU; returns the loss and the logits' gradient. */
const gpuUnbiased = (
  z: readonly number[],
  labels: readonly number[],
  shape: readonly number[],
  oldClasses: number,
  options: { weights?: readonly number[]; meanOver?: "valid" | "all" } = {},
) =>
  runGpu(Effect.gen(function* () {
    const Z = parameter(yield* fromArray(z, shape, "f32"), "Z");
    const y = yield* fromArray(labels, shape.slice(0, 3), "i32");
    const weights = options.weights
      ? yield* fromArray(options.weights, shape.slice(0, 3), "f32")
      : undefined;
    const loss = yield* unbiasedCrossEntropy(Z, y, oldClasses, {
      weights,
      meanOver: options.meanOver,
    });
    const [dz] = yield* grad(loss, [Z]);
    return {
      shape: loss.value.shape,
      loss: (yield* download(loss.value))[0],
      dz: Array.from(yield* download(dz)),
    };
  }));

Deno.test({
  name: "unbiased CE: hand-computed values on three pixels",
  ...gpuTestOptions,
  fn: async () => {
    // z = [0, ln 2, ln 5] at every pixel: exp = [1, 2, 5], sum 8; old = {0, 1}.
    // Pixel 0, label 0 (background): p = (1 + 2) / 8 -> loss ln(8/3).
    // Pixel 1, label 2 (new): p = 5 / 8 -> loss ln(8/5).
    // Pixel 2, label 255: ignored.
    // Mean over the 2 valid pixels: (ln(8/3) + ln(8/5)) / 2 = ln(64/15) / 2;
    // MiB's mean over all 3 pixels: ln(64/15) / 3.
    // Gradient at pixel 0: u = 1/2, softmax [1/8, 2/8, 5/8] minus the softmax
    // over the old channels [1/3, 2/3, 0]: [-5/48, -5/24, 5/16].
    const row = [0, Math.log(2), Math.log(5)];
    const z = [...row, ...row, ...row];
    const labels = [0, 2, 255];
    const shape = [1, 1, 3, 3];
    const valid = await gpuUnbiased(z, labels, shape, 2);
    if (valid.shape.join(",") !== "1") throw new Error(`shape ${valid.shape}`);
    assertClose([valid.loss], [Math.log(64 / 15) / 2], 1e-6, 1e-5, "loss");
    assertClose(valid.dz.slice(0, 3), [-5 / 48, -5 / 24, 5 / 16], 1e-6, 1e-5, "dz");
    // Pixel 1: u = 1/2, softmax - onehot(2) = [1/8, 2/8, -3/8].
    assertClose(valid.dz.slice(3, 6), [1 / 16, 1 / 8, -3 / 16], 1e-6, 1e-5, "dz new");
    assertClose(valid.dz.slice(6), [0, 0, 0], 0, 0, "dz ignored");
    const all = await gpuUnbiased(z, labels, shape, 2, { meanOver: "all" });
    assertClose([all.loss], [Math.log(64 / 15) / 3], 1e-6, 1e-5, "loss all");
    // Label 1 is an old class: MiB maps it to background, same loss as label 0.
    const old = await gpuUnbiased(row, [1], [1, 1, 1, 3], 2);
    assertClose([old.loss], [Math.log(8 / 3)], 1e-6, 1e-5, "old label");
  },
});

const cases = fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  h: fc.integer({ min: 1, max: 5 }),
  w: fc.integer({ min: 1, max: 7 }),
  c: fc.integer({ min: 2, max: 9 }),
}).chain((s) => {
  const pixels = s.n * s.h * s.w;
  return fc.record({
    s: fc.constant(s),
    old: fc.integer({ min: 1, max: s.c }),
    z: floats(pixels * s.c, 5),
    labels: fc.array(fc.oneof(fc.integer({ min: 0, max: s.c - 1 }), fc.constant(255)), {
      minLength: pixels,
      maxLength: pixels,
    }),
    weights: fc.option(
      fc.array(fc.constantFrom(0, 0.5, 1, 3), { minLength: pixels, maxLength: pixels }),
      { nil: undefined },
    ),
    meanOver: fc.constantFrom<"valid" | "all">("valid", "all"),
  });
});

Deno.test({
  name: "unbiased CE: GPU matches the float64 reference, loss and gradient, random shapes",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ s, old, z, labels, weights, meanOver }) => {
        const shape = [s.n, s.h, s.w, s.c];
        const options = { weights, meanOver };
        const out = await gpuUnbiased(z, labels, shape, old, options);
        const ref = unbiasedCrossEntropyReference(z, labels, s.c, old, options);
        const dref = unbiasedCrossEntropyBackwardReference(z, labels, s.c, old, options);
        assertClose([out.loss], [ref.loss], 1e-5, 1e-4, "loss");
        assertClose(out.dz, dref, 1e-6, 1e-4, "dz");
      }),
      { seed: 42, numRuns: 25 },
    );
  },
});

Deno.test("unbiased CE reference: analytic gradient equals central finite differences", () => {
  fc.assert(
    fc.property(cases, ({ s, old, z, labels, weights, meanOver }) => {
      const options = { weights, meanOver };
      const f = (x: number[]) => unbiasedCrossEntropyReference(x, labels, s.c, old, options).loss;
      const fd = finiteDifferences(f, z);
      const analytic = unbiasedCrossEntropyBackwardReference(z, labels, s.c, old, options);
      assertClose(analytic, fd, 1e-7, 1e-5, "fd");
    }),
    { seed: 42, numRuns: 40 },
  );
});

Deno.test({
  name: "unbiased CE with oldClasses = 1 equals plain cross-entropy (value and gradient)",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ s, z, labels, weights }) => {
        const shape = [s.n, s.h, s.w, s.c];
        const out = await runGpu(Effect.gen(function* () {
          const Z = parameter(yield* fromArray(z, shape, "f32"), "Z");
          const y = yield* fromArray(labels, shape.slice(0, 3), "i32");
          const w = weights ? yield* fromArray(weights, shape.slice(0, 3), "f32") : undefined;
          const unbiased = yield* unbiasedCrossEntropy(Z, y, 1, { weights: w });
          const plain = yield* crossEntropy(Z, y, { weights: w });
          const [du] = yield* grad(unbiased, [Z]);
          const [dp] = yield* grad(plain, [Z]);
          return {
            u: yield* download(unbiased.value),
            p: yield* download(plain.value),
            du: yield* download(du),
            dp: yield* download(dp),
          };
        }));
        assertClose(out.u, out.p, 1e-6, 1e-5, "loss");
        assertClose(out.du, out.dp, 1e-7, 1e-5, "grad");
      }),
      { seed: 42, numRuns: 10 },
    );
  },
});

Deno.test({
  name: "unbiased CE rejects mismatched labels and impossible old-class counts",
  ...gpuTestOptions,
  fn: async () => {
    for (const [labels, old] of [[2, 2], [3, 4], [3, 0]] as const) {
      const r = await runGpuResult(Effect.gen(function* () {
        const Z = parameter(
          yield* fromArray([0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 1, 3, 3], "f32"),
          "Z",
        );
        const y = yield* fromArray(new Array(labels).fill(0), [1, 1, labels], "i32");
        return yield* unbiasedCrossEntropy(Z, y, old);
      }));
      if (r._tag !== "Failure") throw new Error(`accepted ${labels} labels, ${old} old classes`);
    }
  },
});
