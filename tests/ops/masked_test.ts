import fc from "fast-check";
import { Effect } from "effect";
import {
  columnPartialsKernels,
  columnPartialsSerialKernels,
  columnTotals,
  columnTotalsKernel,
  columnTotalsSerialKernel,
  type MaskedOp,
  maskedReduce,
  maskedReduceBackward,
} from "../../src/ops/masked.ts";
import { Gpu } from "../../src/gpu/device.ts";
import { maskedReduceBackwardReference, maskedReduceReference } from "../reference/masked.ts";
import { download, empty, fromArray } from "../../src/tensor/tensor.ts";
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

Deno.test({
  name: "both column-reduction kernel pairs (tree and serial) give the masked totals exactly",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(cases, fc.constantFrom(256, 2048), async (c, chunk) => {
        const groups = Math.max(1, Math.ceil(c.rows / chunk));
        const pairs = [
          [columnPartialsKernels, columnTotalsKernel],
          [columnPartialsSerialKernels, columnTotalsSerialKernel],
        ] as const;
        const got = await runGpu(Effect.gen(function* () {
          const gpu = yield* Gpu;
          const x = yield* fromArray(c.x, [c.rows, c.cols], "f32");
          const mask = c.integerMask
            ? yield* fromArray(c.mask, [c.rows], "i32")
            : yield* fromArray(c.mask, [c.rows], "f32");
          const outs = [];
          for (const [partialsKernels, totalsKernel] of pairs) {
            const partials = yield* empty([c.cols + 1, groups], "f32");
            const totals = yield* empty([c.cols + 1], "f32");
            const p = { rows: c.rows, cols: c.cols, chunk, groups };
            const kernel = c.integerMask ? partialsKernels.i32 : partialsKernels.f32;
            yield* gpu.recorder.dispatch(kernel, { x, mask, partials } as never, p, {
              HAS_MASK: 1,
            });
            yield* gpu.recorder.dispatch(totalsKernel, { partials, totals }, {
              groups,
              cols: c.cols,
            });
            outs.push(yield* download(totals));
          }
          return outs;
        }));
        const want = new Array<number>(c.cols + 1).fill(0);
        for (let r = 0; r < c.rows; r++) {
          const w = c.integerMask ? (c.mask[r] !== 0 ? 1 : 0) : c.mask[r];
          want[c.cols] += w;
          for (let k = 0; k < c.cols; k++) want[k] += w * c.x[r * c.cols + k];
        }
        assertClose(got[0], want, 0, 0, "tree");
        assertClose(got[1], want, 0, 0, "serial");
      }),
      { seed: 9, numRuns: 20 },
    );
  },
});
