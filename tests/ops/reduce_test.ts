import fc from "fast-check";
import { Effect } from "effect";
import {
  argmax,
  axisView,
  reduce,
  ReduceOp,
  type ReduceOpName,
  reduceRowsKernel,
  reduceWideKernel,
} from "../../src/ops/reduce.ts";
import { Gpu } from "../../src/gpu/device.ts";
import { argmaxReference, reduceReference } from "../reference/reduce.ts";
import { download, empty, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, EPS32, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { shapeOf, smallInts } from "../support/arbitrary.ts";

// Shapes of both regimes: many short rows, and few long ones (>= 64 long).
const shapeAndAxis = fc.oneof(
  shapeOf(3, 9),
  fc.tuple(
    fc.integer({ min: 1, max: 3 }),
    fc.integer({ min: 64, max: 700 }),
    fc.integer({ min: 1, max: 3 }),
  )
    .map((s) => [...s]),
).chain((shape) => fc.record({ shape: fc.constant(shape), axis: fc.integer({ min: -3, max: 2 }) }));

const withData = shapeAndAxis.chain(({ shape, axis }) =>
  fc.record({
    shape: fc.constant(shape),
    axis: fc.constant(axis),
    data: smallInts(shape.reduce((a, b) => a * b, 1), -50, 50),
  })
);

Deno.test({
  name: "sum, mean and max along any axis match the float64 reference",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<ReduceOpName>("sum", "mean", "max"),
        withData,
        async (op, c) => {
          const view = axisView(c.shape, c.axis);
          const out = await runGpu(Effect.gen(function* () {
            const t = yield* fromArray(c.data, c.shape, "f32");
            const r = yield* reduce(op, t, c.axis);
            if (r.shape.join() !== view.reduced.join()) throw new Error("reduced shape");
            return yield* download(r);
          }));
          // Integer data: sums and maxima are exact, a mean is one rounding of sum / n.
          const expected = reduceReference(op, c.data, view.outer, view.axis, view.inner);
          assertClose(out, expected, 0, op === "mean" ? 4 * EPS32 : 0, op);
        },
      ),
      { seed: 42, numRuns: 40 },
    );
  },
});

Deno.test({
  name: "both reduction kernels match the float64 reference, whichever the adapter picks",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<ReduceOpName>("sum", "mean", "max"),
        withData,
        async (op, c) => {
          const view = axisView(c.shape, c.axis);
          const p = { outer: view.outer, axis: view.axis, inner: view.inner };
          const [rows, wide] = await runGpu(Effect.gen(function* () {
            const gpu = yield* Gpu;
            const t = yield* fromArray(c.data, c.shape, "f32");
            const outs = [];
            for (const kernel of [reduceRowsKernel, reduceWideKernel]) {
              const out = yield* empty(view.reduced, "f32");
              yield* gpu.recorder.dispatch(kernel, { a: t, out }, p, { OP: ReduceOp[op] });
              outs.push(yield* download(out));
            }
            return outs;
          }));
          const expected = reduceReference(op, c.data, view.outer, view.axis, view.inner);
          assertClose(rows, expected, 0, op === "mean" ? 4 * EPS32 : 0, `${op} rows`);
          assertClose(wide, expected, 0, op === "mean" ? 4 * EPS32 : 0, `${op} wide`);
        },
      ),
      { seed: 43, numRuns: 25 },
    );
  },
});

Deno.test({
  name: "argmax returns the first index of the maximum",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(withData, async (c) => {
        // Few distinct values make ties common, which the first-index rule must settle.
        const data = c.data.map((v) => v % 4);
        const view = axisView(c.shape, c.axis);
        const out = await runGpu(Effect.gen(function* () {
          const t = yield* fromArray(data, c.shape, "f32");
          return yield* download(yield* argmax(t, c.axis));
        }));
        assertClose(out, argmaxReference(data, view.outer, view.axis, view.inner), 0, 0);
      }),
      { seed: 42, numRuns: 30 },
    );
  },
});
