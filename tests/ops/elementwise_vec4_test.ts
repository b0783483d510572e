/**
 * The quad-per-invocation elementwise kernels (binary_vec4.wgsl,
 * unary_vec4.wgsl, axpy_vec4.wgsl): taken whenever both counts are multiples of 4, they must
 * give the scalar kernels' results bit for bit on a CPU adapter (edge values
 * included; within a few ulps on a GPU: `assertSameForm`) and match the
 * float64 reference.
 */
import fc from "fast-check";
import { Effect } from "effect";
import {
  axpyInto,
  binary,
  type BinaryOpName,
  setElementwiseVec4,
  unary,
  UnaryOp,
  type UnaryOpName,
} from "../../src/ops/elementwise.ts";
import { axpyReference, binaryReference } from "../reference/elementwise.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, EPS32, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { edgeFloats, floats } from "../support/arbitrary.ts";
import { Gpu } from "../../src/gpu/device.ts";
import { assertSameForm } from "../support/tracing.ts";

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

/** The op on the GPU, through the vec4 kernels (`vec4`) or the scalar ones; the kernels used. */
const runBinary = (op: BinaryOpName, a: number[], b: number[], vec4: boolean) =>
  runGpu(Effect.gen(function* () {
    const previous = setElementwiseVec4(vec4);
    try {
      const ta = yield* fromArray(a, [a.length], "f32");
      const tb = yield* fromArray(b, [b.length], "f32");
      return { out: yield* download(yield* binary(op, ta, tb)) };
    } finally {
      setElementwiseVec4(previous);
    }
  }));

/** The adapter the tests run on (the forms must be bit-identical on a CPU one). */
const adapter = () => runGpu(Effect.map(Gpu, (gpu) => gpu.adapter));

// Periods and lengths in quads: 1 quad (a per-4-channel vector) up to 9, repeated 1 to 13 times.
const quadCase = (op: BinaryOpName, edges: boolean) =>
  fc.record({ period: fc.integer({ min: 1, max: 9 }), repeats: fc.integer({ min: 1, max: 13 }) })
    .chain(({ period, repeats }) => {
      const n = 4 * period * repeats;
      const values = (length: number) =>
        edges ? edgeFloats(length, 4, { large: 1e30, nan: true }) : floats(length);
      return fc.record({
        op: fc.constant(op),
        a: values(n),
        // Divisors away from 0 (x / 0 is not defined in WGSL).
        b: op === "div"
          ? fc.array(fc.double({ min: 0.25, max: 4, noNaN: true }), {
            minLength: 4 * period,
            maxLength: 4 * period,
          })
          : values(4 * period),
      });
    });

const anyOp = (edges: boolean) => fc.constantFrom(...binaryOps).chain((op) => quadCase(op, edges));

Deno.test({
  name: "binary ops on whole quads match the float64 reference through the vec4 kernel",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(anyOp(false), async ({ op, a, b }) => {
        const { out } = await runBinary(op, a, b, true);
        assertClose(out, binaryReference(op, a, b), 0, 6 * EPS32, op);
      }),
      { seed: 7, numRuns: 40 },
    );
  },
});

Deno.test({
  name: "the vec4 binary kernel equals the scalar one, NaN, infinities and -0 included",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(anyOp(true), async ({ op, a, b }) => {
        const quads = await runBinary(op, a, b, true);
        const scalar = await runBinary(op, a, b, false);
        assertSameForm(quads.out, scalar.out, await adapter(), op);
      }),
      { seed: 11, numRuns: 40 },
    );
  },
});

Deno.test({
  name: "the vec4 kernels are taken only for whole quads (one dispatch either way)",
  ...gpuTestOptions,
  fn: async () => {
    const kernels: string[] = [];
    await runGpu(Effect.gen(function* () {
      const gpu = yield* Gpu;
      const original = gpu.recorder.dispatch.bind(gpu.recorder);
      // deno-lint-ignore no-explicit-any
      (gpu.recorder as any).dispatch = (kernel: { name: string }, ...rest: any[]) => {
        kernels.push(kernel.name);
        // deno-lint-ignore no-explicit-any
        return (original as any)(kernel, ...rest);
      };
      try {
        for (const [n, period] of [[8, 4], [8, 2], [6, 6], [12, 1]]) {
          const a = yield* fromArray(new Float32Array(n), [n], "f32");
          const b = yield* fromArray(new Float32Array(period), [period], "f32");
          yield* binary("add", a, b);
          yield* axpyInto(b, a, 2);
        }
      } finally {
        // deno-lint-ignore no-explicit-any
        delete (gpu.recorder as any).dispatch;
      }
    }));
    // The pool's poison fills (GSC_POOL_POISON) are not the op's.
    const vec4 = kernels.filter((name) => name.includes("/elementwise/"))
      .map((name) => name.includes("_vec4"));
    // [8 over 4]: quads; [8 over 2], [6 over 6], [12 over a scalar]: scalar kernels.
    const expected = [true, true, false, false, false, false, false, false];
    if (vec4.join() !== expected.join()) {
      throw new Error(`kernels taken: ${kernels.join(", ")}`);
    }
  },
});

Deno.test({
  name: "axpy on whole quads matches the reference and the scalar kernel",
  ...gpuTestOptions,
  fn: async () => {
    const run = (y: number[], x: number[], alpha: number, vec4: boolean) =>
      runGpu(Effect.gen(function* () {
        const previous = setElementwiseVec4(vec4);
        try {
          const ty = yield* fromArray(y, [y.length], "f32");
          const tx = yield* fromArray(x, [x.length], "f32");
          yield* axpyInto(tx, ty, alpha);
          return yield* download(ty);
        } finally {
          setElementwiseVec4(previous);
        }
      }));
    await fc.assert(
      fc.asyncProperty(
        quadCase("add", false),
        fc.integer({ min: -3, max: 3 }),
        async ({ a, b }, alpha) => {
          const quads = await run(a, b, alpha, true);
          const scalar = await run(a, b, alpha, false);
          assertSameForm(quads, scalar, await adapter(), "axpy");
          const atol = a.map((y, i) =>
            2 * EPS32 * (Math.abs(y) + Math.abs(alpha * b[i % b.length]))
          );
          assertClose(quads, axpyReference(b, a, alpha), atol, 0, "axpy");
        },
      ),
      { seed: 13, numRuns: 25 },
    );
  },
});

/** Every unary operation the kernels know. */
const unaryOps = Object.keys(UnaryOp) as UnaryOpName[];

Deno.test({
  name: "the vec4 unary kernel equals the scalar one, NaN, infinities and -0 included",
  ...gpuTestOptions,
  fn: async () => {
    const run = (op: UnaryOpName, x: number[], alpha: number, vec4: boolean) =>
      runGpu(Effect.gen(function* () {
        const previous = setElementwiseVec4(vec4);
        try {
          const t = yield* fromArray(x, [x.length], "f32");
          return yield* download(yield* unary(op, t, alpha, 0.5));
        } finally {
          setElementwiseVec4(previous);
        }
      }));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...unaryOps),
        fc.integer({ min: 1, max: 40 }).chain((quads) =>
          edgeFloats(4 * quads, 4, { large: 1e30, nan: true })
        ),
        fc.constantFrom(-1.5, 0.25, 3),
        async (op, x, alpha) => {
          const quads = await run(op, x, alpha, true);
          const scalar = await run(op, x, alpha, false);
          assertSameForm(quads, scalar, await adapter(), op);
        },
      ),
      { seed: 17, numRuns: 40 },
    );
  },
});
