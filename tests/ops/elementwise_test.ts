import fc from "fast-check";
import { Effect } from "effect";
import {
  axpyInto,
  binary,
  type BinaryOpName,
  unary,
  type UnaryOpName,
} from "../../src/ops/elementwise.ts";
import {
  axpyReference,
  binaryReference,
  unaryReference,
} from "../../src/ops/reference/elementwise.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { floats } from "../support/arbitrary.ts";

const binaryOps: BinaryOpName[] = ["add", "sub", "mul", "div", "max", "min", "passWherePositive"];
const unaryOps: UnaryOpName[] = [
  "scaleShift",
  "relu",
  "exp",
  "log",
  "neg",
  "abs",
  "sqrt",
  "square",
];

// a has n = period * repeats elements; b repeats with `period` (1 = scalar, n = same shape).
const broadcastCase = fc.record({
  period: fc.integer({ min: 1, max: 37 }),
  repeats: fc.integer({ min: 1, max: 23 }),
})
  .chain(({ period, repeats }) =>
    fc.record({ a: floats(period * repeats), b: floats(period), repeats: fc.constant(repeats) })
  );

Deno.test({
  name: "binary ops match the float64 reference with periodic broadcasting",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...binaryOps), broadcastCase, async (op, { a, b }) => {
        // Keep division well-conditioned: no divisors near zero.
        const bb = op === "div" ? b.map((v) => (Math.abs(v) < 0.25 ? 0.25 : v)) : b;
        const out = await runGpu(Effect.gen(function* () {
          const ta = yield* fromArray(a, [a.length], "f32");
          const tb = yield* fromArray(bb, [bb.length], "f32");
          return yield* download(yield* binary(op, ta, tb));
        }));
        assertClose(out, binaryReference(op, a, bb), 1e-6, 1e-6, op);
      }),
      { seed: 42, numRuns: 40 },
    );
  },
});

Deno.test({
  name: "unary ops match the float64 reference",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...unaryOps),
        fc.integer({ min: 1, max: 777 }).chain((n) => floats(n)),
        fc.integer({ min: -4, max: 4 }),
        fc.integer({ min: -4, max: 4 }),
        async (op, a, alpha, beta) => {
          // log and sqrt are defined on positive inputs.
          const x = op === "log" || op === "sqrt" ? a.map((v) => Math.abs(v) + 0.5) : a;
          const out = await runGpu(Effect.gen(function* () {
            const t = yield* fromArray(x, [x.length], "f32");
            return yield* download(yield* unary(op, t, alpha, beta));
          }));
          assertClose(out, unaryReference(op, x, alpha, beta), 1e-6, 2e-6, op);
        },
      ),
      { seed: 42, numRuns: 40 },
    );
  },
});

Deno.test({
  name: "axpy accumulates in place, with broadcasting",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(broadcastCase, fc.integer({ min: -3, max: 3 }), async ({ a, b }, alpha) => {
        const out = await runGpu(Effect.gen(function* () {
          const y = yield* fromArray(a, [a.length], "f32");
          const x = yield* fromArray(b, [b.length], "f32");
          yield* axpyInto(x, y, alpha);
          return yield* download(y);
        }));
        assertClose(out, axpyReference(b, a, alpha), 1e-5, 1e-6);
      }),
      { seed: 42, numRuns: 25 },
    );
  },
});
