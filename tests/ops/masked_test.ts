import fc from "fast-check";
import { Effect } from "effect";
import {
  columnTotals,
  type MaskedOp,
  maskedReduce,
  maskedReduceBackward,
} from "../../src/ops/masked.ts";
import { maskedReduceBackwardReference, maskedReduceReference } from "../reference/masked.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { smallInts } from "../support/arbitrary.ts";

// Row counts straddle the 2048-row chunk of the first stage; integer data keeps sums exact.
const cases = fc.record({
  rows: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 2000, max: 4500 })),
  cols: fc.integer({ min: 1, max: 5 }),
  integerMask: fc.boolean(),
  op: fc.constantFrom<MaskedOp>("sum", "mean"),
}).chain((c) =>
  fc.record({
    ...Object.fromEntries(Object.entries(c).map(([k, v]) => [k, fc.constant(v)])),
    x: smallInts(c.rows * c.cols, -9, 9),
    mask: smallInts(c.rows, c.integerMask ? -2 : 0, 2),
    g: smallInts(c.cols, -4, 4),
  }) as fc.Arbitrary<typeof c & { x: number[]; mask: number[]; g: number[] }>
);

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

Deno.test({
  name: "masked sum and mean and their gradients match the float64 reference",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const [value, dx] = await runGpu(Effect.gen(function* () {
          const x = yield* fromArray(c.x, [c.rows, c.cols], "f32");
          const mask = c.integerMask
            ? yield* fromArray(c.mask, [c.rows], "i32")
            : yield* fromArray(c.mask, [c.rows], "f32");
          const r = yield* maskedReduce(c.op, x, mask);
          const g = yield* fromArray(c.g, [c.cols], "f32");
          const dx = yield* maskedReduceBackward(c.op, g, mask, r.totals, x.shape);
          return [yield* download(r.value), yield* download(dx)];
        }));
        const expected = maskedReduceReference(c.op, c.x, c.mask, c.integerMask);
        assertClose(value, expected, 0, 1e-6, `${c.op} value`);
        const dxRef = maskedReduceBackwardReference(c.op, c.g, c.mask, c.integerMask);
        assertClose(dx, dxRef, 1e-7, 1e-6, `${c.op} gradient`);
        // Adjoint: <op(x), g> = <x, op^T(g)> for the linear map x -> op(x).
        const lhs = dot(expected, c.g);
        const rhs = dot(c.x, dxRef);
        if (Math.abs(lhs - rhs) > 1e-9 * (1 + Math.abs(lhs))) throw new Error("adjoint");
      }),
      { seed: 42, numRuns: 30 },
    );
  },
});

Deno.test({
  name: "the column reduction is exact on 8x128x128 pixels and counts rows without a mask",
  ...gpuTestOptions,
  fn: async () => {
    const rows = 8 * 128 * 128;
    const x = Float32Array.from({ length: rows * 2 }, (_, i) => (i * 7919) % 13 - 6);
    const totals = await runGpu(Effect.gen(function* () {
      const t = yield* fromArray(x, [rows, 2], "f32");
      return yield* download(yield* columnTotals(t, rows, 2));
    }));
    let even = 0;
    let odd = 0;
    for (let i = 0; i < rows; i++) {
      even += x[2 * i];
      odd += x[2 * i + 1];
    }
    assertClose(totals, [even, odd, rows], 0, 0, "totals");
  },
});

Deno.test({
  name: "an empty selection has mean 0 and masked-out NaN does not leak",
  ...gpuTestOptions,
  fn: async () => {
    const [empty, withNaN] = await runGpu(Effect.gen(function* () {
      const x = yield* fromArray([1, 2, NaN, 4], [4], "f32");
      const none = yield* fromArray([0, 0, 0, 0], [4], "i32");
      const some = yield* fromArray([1, 1, 0, 1], [4], "i32");
      return [
        yield* download((yield* maskedReduce("mean", x, none)).value),
        yield* download((yield* maskedReduce("mean", x, some)).value),
      ];
    }));
    assertClose(empty, [0], 0, 0, "empty");
    assertClose(withNaN, [7 / 3], 0, 1e-6, "nan");
  },
});
