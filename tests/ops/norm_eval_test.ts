/**
 * Eval-mode batch norm for a forward no gradient passes through
 * (`batchNormEval`, normalize_running_vec4.wgsl: the inverse std computed in
 * the normalising kernel) gives y bit for bit as the two-kernel eval path
 * (eval_stats, then normalize) on a CPU adapter, with the per-channel reads
 * as uniform blocks or not; the autograd layer takes it only when nothing
 * needs a gradient.
 */
import fc from "fast-check";
import { ok as assert } from "node:assert";
import { Effect } from "effect";
import { batchNorm, batchNormEval } from "../../src/ops/norm.ts";
import { batchNorm as batchNormNode } from "../../src/autograd/norm.ts";
import { constant, parameter } from "../../src/autograd/tape.ts";
import { uniformReads } from "../../src/ops/uniform_reads.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { seededValues } from "../support/arbitrary.ts";
import { assertSameForm, tracing } from "../support/tracing.ts";

interface Case {
  readonly rows: number;
  readonly channels: number;
  readonly relu: boolean;
  readonly uniform: boolean;
  readonly seed: number;
}

/** y of both eval paths for one case, and the kernels each dispatched. */
const both = (c: Case) => {
  const saved = uniformReads.onCpu;
  uniformReads.onCpu = c.uniform;
  return runGpu(Effect.gen(function* () {
    const n = c.rows * c.channels;
    const values = seededValues(n + 4 * c.channels, c.seed);
    const perChannel = (k: number, f: (v: number) => number) =>
      fromArray(values.slice(n + k * c.channels, n + (k + 1) * c.channels).map(f), [
        c.channels,
      ], "f32");
    const x = yield* fromArray(
      values.slice(0, n).map((v) => 4 * v - 1),
      [1, c.rows, 1, c.channels],
      "f32",
    );
    const state = {
      weight: yield* perChannel(0, (v) => 1 + v),
      bias: yield* perChannel(1, (v) => v),
      runningMean: yield* perChannel(2, (v) => v),
      runningVar: yield* perChannel(3, (v) => 1e-3 + Math.abs(v)),
    };
    const options = { relu: c.relu, eps: 1e-5 };
    const fused = yield* tracing(batchNormEval(x, state, options));
    const twoKernels = yield* tracing(batchNorm(x, state, { ...options, mode: "eval" }));
    return {
      fused: yield* download(fused.result),
      twoKernels: yield* download(twoKernels.result.y),
      kernels: fused.kernels,
      adapter: fused.adapter,
    };
  })).finally(() => {
    uniformReads.onCpu = saved;
  });
};

Deno.test({
  name: "eval-mode batch norm in one pass equals eval_stats then normalize, bit for bit on a CPU",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          rows: fc.integer({ min: 1, max: 200 }),
          channels: fc.constantFrom(4, 8, 20, 64, 68, 6),
          relu: fc.boolean(),
          uniform: fc.boolean(),
          seed: fc.integer({ min: 0, max: 1000 }),
        }),
        async (c) => {
          const r = await both(c);
          const onePass = r.kernels.some((k) => k.includes("normalize_running"));
          assert(onePass === (c.channels % 4 === 0), `${JSON.stringify(c)}: ${r.kernels}`);
          assertSameForm(r.fused, r.twoKernels, r.adapter, JSON.stringify(c));
        },
      ),
      { seed: 29, numRuns: 30 },
    );
  },
});

Deno.test({
  name: "the autograd batch norm takes the one-pass eval form only when no input needs a gradient",
  ...gpuTestOptions,
  fn: async () => {
    const kernels = await runGpu(Effect.gen(function* () {
      const c = 8;
      const t = (v: number, shape: number[]) =>
        fromArray(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v), shape, "f32");
      const running = { mean: yield* t(0, [c]), variance: yield* t(1, [c]) };
      const x = constant(yield* t(0.5, [1, 2, 2, c]));
      const frozen = [constant(yield* t(1, [c])), constant(yield* t(0, [c]))] as const;
      const trained = [parameter(yield* t(1, [c]), "w"), parameter(yield* t(0, [c]), "b")] as const;
      const options = { mode: "eval" } as const;
      const a = yield* tracing(batchNormNode(x, ...frozen, running, options));
      const b = yield* tracing(batchNormNode(x, ...trained, running, options));
      return { frozen: a.kernels, trained: b.kernels };
    }));
    assert(kernels.frozen.some((k) => k.includes("normalize_running")), kernels.frozen.join());
    assert(!kernels.frozen.some((k) => k.includes("eval_stats")), kernels.frozen.join());
    assert(kernels.trained.some((k) => k.includes("eval_stats")), kernels.trained.join());
  },
});
