import fc from "fast-check";
import { Effect } from "effect";
import { matmul, matmulInto, type MatmulSpec } from "../../src/ops/matmul.ts";
import { matmulReference } from "../reference/matmul.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, EPS32, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { smallInts } from "../support/arbitrary.ts";

// Sizes mix multiples of 4 and 8 (vec4 kernel) with odd ones (general kernel).
const dim = fc.oneof(
  fc.integer({ min: 1, max: 41 }),
  fc.integer({ min: 1, max: 12 }).map((d) => d * 4),
);

const specs = fc.record({
  m: dim,
  n: dim,
  k: dim,
  batch: fc.integer({ min: 1, max: 3 }),
  transA: fc.boolean(),
  transB: fc.boolean(),
  broadcastB: fc.boolean(),
  accumulate: fc.boolean(),
});

Deno.test({
  name:
    "batched matmul with transposes, broadcasting and accumulation matches the reference exactly",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(
        specs.chain((s) => {
          const strideB = s.broadcastB ? 0 : s.k * s.n;
          const spec: MatmulSpec = { ...s, strideB };
          const lenB = s.broadcastB ? s.k * s.n : s.batch * s.k * s.n;
          return fc.record({
            spec: fc.constant(spec),
            a: smallInts(s.batch * s.m * s.k, -3, 3),
            b: smallInts(lenB, -3, 3),
            c: smallInts(s.batch * s.m * s.n, -3, 3),
          });
        }),
        async ({ spec, a, b, c }) => {
          const out = await runGpu(Effect.gen(function* () {
            const ta = yield* fromArray(a, [a.length], "f32");
            const tb = yield* fromArray(b, [b.length], "f32");
            const tc = yield* fromArray(c, [c.length], "f32");
            yield* matmulInto(ta, tb, tc, spec);
            return yield* download(tc);
          }));
          // Integer inputs: every partial sum is exact in f32.
          assertClose(out, matmulReference(a, b, spec, c), 0, 0, JSON.stringify(spec));
        },
      ),
      { seed: 42, numRuns: 60 },
    );
  },
});

Deno.test({
  name: "matmul of float data is within f32 rounding of the float64 reference at 96x80x120",
  ...gpuTestOptions,
  fn: async () => {
    const m = 96, n = 80, k = 120;
    const a = Array.from({ length: m * k }, (_, i) => Math.sin(i * 0.37));
    const b = Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.11));
    const out = await runGpu(Effect.gen(function* () {
      const ta = yield* fromArray(a, [m, k], "f32");
      const tb = yield* fromArray(b, [k, n], "f32");
      return yield* download(yield* matmul(ta, tb, { m, n, k }));
    }));
    const [fa, fb] = [Float32Array.from(a), Float32Array.from(b)];
    // Within 16 ulps of each entry's sum of |terms| (the reference on |a|, |b|).
    const terms = matmulReference(fa.map(Math.abs), fb.map(Math.abs), { m, n, k });
    const atol = Array.from(terms, (t) => 16 * EPS32 * t);
    assertClose(out, matmulReference(fa, fb, { m, n, k }), atol, 0, "float matmul");
  },
});

Deno.test({
  name: "the vec4 kernel's quad and scalar stores, edge blocks and accumulation are exact",
  ...gpuTestOptions,
  fn: async () => {
    // N % 4 == 0 takes vec4 stores; B transposed with an odd N the scalar ones.
    // 8x8 blocks overhang every edge (M = 21, N = 20 / 19) and K spans 3 quads.
    const specs: MatmulSpec[] = [
      { m: 21, n: 20, k: 12, accumulate: true },
      { m: 21, n: 19, k: 12, transB: true, accumulate: true },
      { m: 24, n: 12, k: 8, transA: true, batch: 2 },
      { m: 21, n: 19, k: 12, transB: true },
    ];
    for (const [i, spec] of specs.entries()) {
      const batch = spec.batch ?? 1;
      const ints = (length: number, seed: number) =>
        Array.from({ length }, (_, j) => ((j * 7 + seed * 13) % 7) - 3);
      const a = ints(batch * spec.m * spec.k, i);
      const b = ints(batch * spec.k * spec.n, i + 1);
      const c = ints(batch * spec.m * spec.n, i + 2);
      const out = await runGpu(Effect.gen(function* () {
        const ta = yield* fromArray(a, [a.length], "f32");
        const tb = yield* fromArray(b, [b.length], "f32");
        const tc = yield* fromArray(c, [c.length], "f32");
        yield* matmulInto(ta, tb, tc, spec);
        return yield* download(tc);
      }));
      assertClose(out, matmulReference(a, b, spec, c), 0, 0, JSON.stringify(spec));
    }
  },
});

Deno.test({
  name:
    "8x16 blocks, narrow C and B packed into panels: exact with transposes, batches, accumulation",
  ...gpuTestOptions,
  fn: async () => {
    // N >= 128 takes 8x16 blocks, K >= 128 as well packs B; N = 200 leaves a
    // partial last panel, N = 130 (B transposed, scalar stores) a partial block.
    // Every B [K, N] with N % 4 != 0 is packed too (the property test above
    // covers those with batches and broadcasting).
    const specs: MatmulSpec[] = [
      { m: 21, n: 132, k: 12, transB: true, accumulate: true },
      { m: 13, n: 130, k: 8, transB: true, accumulate: true },
      { m: 12, n: 140, k: 20, transA: true, batch: 2 },
      // A classifier's odd N (packed whatever K) and narrow C (2 blocks a row).
      { m: 37, n: 21, k: 256, accumulate: true },
      { m: 70, n: 16, k: 64, accumulate: true },
      { m: 21, n: 200, k: 132, accumulate: true },
      { m: 16, n: 128, k: 128, transB: true },
      { m: 24, n: 200, k: 136, transA: true, transB: true, accumulate: true },
      { m: 9, n: 132, k: 128, batch: 2, accumulate: true },
      { m: 9, n: 196, k: 128, batch: 3, strideB: 0, transB: true },
    ];
    for (const [i, spec] of specs.entries()) {
      const batch = spec.batch ?? 1;
      const ints = (length: number, seed: number) =>
        Array.from({ length }, (_, j) => ((j * 7 + seed * 13) % 7) - 3);
      const a = ints(batch * spec.m * spec.k, i);
      const b = ints((spec.strideB === 0 ? 1 : batch) * spec.k * spec.n, i + 1);
      const c = ints(batch * spec.m * spec.n, i + 2);
      const out = await runGpu(Effect.gen(function* () {
        const ta = yield* fromArray(a, [a.length], "f32");
        const tb = yield* fromArray(b, [b.length], "f32");
        const tc = yield* fromArray(c, [c.length], "f32");
        yield* matmulInto(ta, tb, tc, spec);
        return yield* download(tc);
      }));
      assertClose(out, matmulReference(a, b, spec, c), 0, 0, JSON.stringify(spec));
    }
  },
});
