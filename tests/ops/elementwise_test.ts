import fc from "fast-check";
import { Effect } from "effect";
import {
  axpyInto,
  binary,
  type BinaryOpName,
  unary,
  type UnaryOpName,
} from "../../src/ops/elementwise.ts";
import { axpyReference, binaryReference, unaryReference } from "../reference/elementwise.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import {
  assertClose,
  assertCloseEdges,
  EPS32,
  flushSubnormals,
  gpuTestOptions,
  runGpu,
} from "../support/gpu.ts";
import { edgeFloats, floats, floatsIn, nonZeroFloat, nonZeroFloats } from "../support/arbitrary.ts";

const binaryOps: BinaryOpName[] = [
  "add",
  "sub",
  "mul",
  "div",
  "max",
  "min",
  "passWherePositive",
  "addRelu",
];
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
// Divisors are kept at least 0.25 from 0 by construction (their magnitude is drawn from
// [0.25, 4]), not by rejecting draws.
const broadcastCase = (op: BinaryOpName) =>
  fc.record({
    period: fc.integer({ min: 1, max: 37 }),
    repeats: fc.integer({ min: 1, max: 23 }),
  })
    .chain(({ period, repeats }) =>
      fc.record({
        a: floats(period * repeats),
        b: op === "div" ? nonZeroFloats(period, 0.25, 4) : floats(period),
        repeats: fc.constant(repeats),
      })
    );

const opAndCase = fc.constantFrom(...binaryOps).chain((op) =>
  fc.record({ op: fc.constant(op), k: broadcastCase(op) })
);

Deno.test({
  name: "binary ops match the float64 reference with periodic broadcasting",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(opAndCase, async ({ op, k: { a, b } }) => {
        const out = await runGpu(Effect.gen(function* () {
          const ta = yield* fromArray(a, [a.length], "f32");
          const tb = yield* fromArray(b, [b.length], "f32");
          return yield* download(yield* binary(op, ta, tb));
        }));
        // f32 inputs: add, sub and mul round once; WGSL allows division 2.5 ulps.
        assertClose(out, binaryReference(op, a, b), 0, 6 * EPS32, op);
      }),
      { seed: 42, numRuns: 40 },
    );
  },
});

// Per-element atol: scaleShift cancels (alpha x + beta near 0), log's error near 1 is
// absolute (2^-21 in WGSL). exp is within 3 + 2 |x| ulps, the rtol.
const unaryAtol = (op: UnaryOpName, x: number[], alpha: number, beta: number) =>
  x.map((v) =>
    op === "scaleShift"
      ? 2 * EPS32 * (Math.abs(alpha * v) + Math.abs(beta))
      : op === "log" && v >= 0.5 && v <= 2
      ? 2 ** -21
      : 0
  );

// log and sqrt are defined on positive inputs: drawn from [0.01, 8].
const unaryCase = fc.record({
  op: fc.constantFrom(...unaryOps),
  n: fc.integer({ min: 1, max: 777 }),
  alpha: fc.integer({ min: -4, max: 4 }),
  beta: fc.integer({ min: -4, max: 4 }),
}).chain((c) =>
  fc.record({
    c: fc.constant(c),
    x: c.op === "log" || c.op === "sqrt" ? floatsIn(c.n, 0.01, 8) : floats(c.n),
  })
);

Deno.test({
  name: "unary ops match the float64 reference",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(unaryCase, async ({ c: { op, alpha, beta }, x }) => {
        const out = await runGpu(Effect.gen(function* () {
          const t = yield* fromArray(x, [x.length], "f32");
          return yield* download(yield* unary(op, t, alpha, beta));
        }));
        const rtol = op === "exp" ? 2 * (3 + 2 * 4) * EPS32 : 6 * EPS32;
        const atol = unaryAtol(op, x, alpha, beta);
        assertClose(out, unaryReference(op, x, alpha, beta), atol, rtol, op);
      }),
      { seed: 42, numRuns: 40 },
    );
  },
});

Deno.test({
  name: "axpy accumulates in place, with broadcasting",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(
        broadcastCase("add"),
        fc.integer({ min: -3, max: 3 }),
        async ({ a, b }, alpha) => {
          const out = await runGpu(Effect.gen(function* () {
            const y = yield* fromArray(a, [a.length], "f32");
            const x = yield* fromArray(b, [b.length], "f32");
            yield* axpyInto(x, y, alpha);
            return yield* download(y);
          }));
          // One rounding of alpha x (exact for |alpha| <= 3 but not promised) and one of the sum.
          const atol = a.map((y, i) =>
            2 * EPS32 * (Math.abs(y) + Math.abs(alpha * b[i % b.length]))
          );
          assertClose(out, axpyReference(b, a, alpha), atol, 0, "axpy");
        },
      ),
      { seed: 42, numRuns: 25 },
    );
  },
});

// Zeros, subnormals, +-1e30 (products overflow to infinity) and NaN, which every op but
// max and min (WGSL returns the other operand) must propagate. A kernel may flush
// subnormal inputs and results to 0 (WGSL allows it): the reference with flushed inputs
// is accepted too.
const EDGE = { large: 1e30, nan: true } as const;
const edgeBinary = fc.constantFrom(...binaryOps).chain((op) =>
  fc.integer({ min: 1, max: 64 }).chain((n) =>
    fc.record({
      op: fc.constant(op),
      a: edgeFloats(n, 4, op === "max" || op === "min" ? { large: 1e30 } : EDGE),
      // Divisors: no zeros or subnormals (x / 0 is not defined in WGSL).
      b: op === "div"
        ? fc.array(
          fc.oneof(
            { weight: 3, arbitrary: nonZeroFloat(0.25, 4) },
            { weight: 1, arbitrary: fc.constantFrom(1e30, -1e30, Number.NaN) },
          ),
          { minLength: n, maxLength: n },
        )
        : edgeFloats(n, 4, op === "max" || op === "min" ? { large: 1e30 } : EDGE),
    })
  )
);

Deno.test({
  name: "binary ops on zeros, subnormals, huge values and NaN follow IEEE in f32",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(edgeBinary, async ({ op, a, b }) => {
        const out = await runGpu(Effect.gen(function* () {
          const ta = yield* fromArray(a, [a.length], "f32");
          const tb = yield* fromArray(b, [b.length], "f32");
          return yield* download(yield* binary(op, ta, tb));
        }));
        const references = [
          binaryReference(op, a, b),
          binaryReference(op, flushSubnormals(a), flushSubnormals(b)),
        ];
        assertCloseEdges(out, references, 0, 6 * EPS32, op);
      }),
      { seed: 42, numRuns: 40 },
    );
  },
});

const edgeUnaryOps: UnaryOpName[] = ["scaleShift", "relu", "exp", "neg", "abs", "sqrt", "square"];

Deno.test({
  name: "unary ops on zeros, subnormals, huge values and NaN follow IEEE in f32 (NaN kept)",
  ...gpuTestOptions,
  fn: async () => {
    const cases = fc.record({
      op: fc.constantFrom(...edgeUnaryOps),
      x: fc.integer({ min: 1, max: 64 }).chain((n) => edgeFloats(n, 4, EDGE)),
      alpha: fc.integer({ min: -4, max: 4 }),
      beta: fc.integer({ min: -4, max: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(cases, async ({ op, x: raw, alpha, beta }) => {
        // sqrt on magnitudes: a negative input has no defined result in WGSL.
        const x = op === "sqrt" ? raw.map(Math.abs) : raw;
        const out = await runGpu(Effect.gen(function* () {
          const t = yield* fromArray(x, [x.length], "f32");
          return yield* download(yield* unary(op, t, alpha, beta));
        }));
        const references = [
          unaryReference(op, x, alpha, beta),
          unaryReference(op, flushSubnormals(x), alpha, beta),
        ];
        const rtol = op === "exp" ? 2 * (3 + 2 * 4) * EPS32 : 6 * EPS32;
        assertCloseEdges(out, references, 0, rtol, op);
      }),
      { seed: 42, numRuns: 40 },
    );
  },
});
