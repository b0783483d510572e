/**
 * The random products of the matmul tests that compare two forms of the
 * vec4 kernel (texture reads, workgroup order): one case's shape, flags and
 * seed, and its C computed from seeded operands.
 */
import fc from "fast-check";
import { Effect, type Scope } from "effect";
import type { Gpu } from "../../src/gpu/device.ts";
import type { GpuError } from "../../src/gpu/errors.ts";
import { matmul, matmulInto, matmulTuning } from "../../src/ops/matmul.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { SeededRng } from "../../src/util/rng.ts";
import { runGpu } from "./gpu.ts";
import { tracing } from "./tracing.ts";

/** One batched product C = op(A) op(B), fresh or accumulated into a seeded C. */
export interface MatmulCase {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly batch: number;
  readonly transA: boolean;
  readonly transB: boolean;
  readonly accumulate: boolean;
  readonly seed: number;
}

/** C of one case, A, B (and C when accumulating) drawn uniformly in [-1, 1) from its seed. */
export const matmulCaseProduct = (
  c: MatmulCase,
): Effect.Effect<Float32Array, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const rng = new SeededRng(c.seed);
    const draw = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
    const a = yield* fromArray(draw(c.batch * c.m * c.k), [c.batch * c.m * c.k], "f32");
    const b = yield* fromArray(draw(c.batch * c.k * c.n), [c.batch * c.k * c.n], "f32");
    const spec = { m: c.m, n: c.n, k: c.k, batch: c.batch, transA: c.transA, transB: c.transB };
    if (!c.accumulate) return yield* download(yield* matmul(a, b, spec));
    const out = yield* fromArray(draw(c.batch * c.m * c.n), [c.batch * c.m * c.n], "f32");
    yield* matmulInto(a, b, out, { ...spec, accumulate: true });
    return yield* download(out);
  });

/**
 * C of one case with `tuning` merged into {@link matmulTuning} (restored
 * after), and the vec4 kernel's constant `constant` in each of its dispatches.
 */
export const tunedProduct = async (
  c: MatmulCase,
  tuning: Partial<typeof matmulTuning>,
  constant: string,
): Promise<{ values: Float32Array; used: number[] }> => {
  const saved = { ...matmulTuning };
  Object.assign(matmulTuning, tuning);
  try {
    return await runGpu(Effect.gen(function* () {
      const traced = yield* tracing(matmulCaseProduct(c));
      const used = traced.dispatches.flatMap((d) =>
        d.kernel.includes("matmul_vec4") ? [d.constants[constant]] : []
      );
      return { values: traced.result, used };
    }));
  } finally {
    Object.assign(matmulTuning, saved);
  }
};

/**
 * Random cases with the given size arbitraries and every layout: a batch of
 * 1 or 2, either transpose, fresh or accumulated, a seed.
 */
export const matmulCases = (sizes: {
  m: fc.Arbitrary<number>;
  n: fc.Arbitrary<number>;
  k: fc.Arbitrary<number>;
}): fc.Arbitrary<MatmulCase> =>
  fc.record({
    ...sizes,
    batch: fc.integer({ min: 1, max: 2 }),
    transA: fc.boolean(),
    transB: fc.boolean(),
    accumulate: fc.boolean(),
    seed: fc.integer({ min: 0, max: 1000 }),
  });
