/**
 * Small read-only tensors read as uniform blocks (src/ops/uniform_reads.ts):
 * the register convolutions' filters of at most 64 KiB and eval-mode batch
 * norm's per-channel statistics, weight and bias give what storage-buffer
 * and texture reads give, bit for bit on a CPU adapter (the same values in
 * the same sums). The binding rules: a uniform binding must be a read-only
 * vec4f sized by one of the kernel's constants, at most 64 KiB, and bound
 * whole.
 */
import fc from "fast-check";
import { ok as assert, throws } from "node:assert";
import { Effect } from "effect";
import type { Conv2dOptions } from "../../src/ops/conv.ts";
import { batchNorm, setSinglePassRows } from "../../src/ops/norm.ts";
import { resizeBilinear } from "../../src/ops/resize.ts";
import { uniformReads } from "../../src/ops/uniform_reads.ts";
import { defineKernel, kernelHeader, linearGrid } from "../../src/gpu/kernel.ts";
import { Gpu } from "../../src/gpu/device.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu, runGpuResult } from "../support/gpu.ts";
import { seededValues } from "../support/arbitrary.ts";
import { assertSameForm, tracing } from "../support/tracing.ts";
import {
  type ConvOperands,
  drawOperands,
  registerGeometries,
  tracedPasses,
} from "../support/conv_cases.ts";
import { SeededRng } from "../../src/util/rng.ts";

/** Runs `fn` with uniform reads on or off, restoring the switch after. */
const withUniformReads = async <A>(on: boolean, fn: () => Promise<A>): Promise<A> => {
  const saved = uniformReads.onCpu;
  uniformReads.onCpu = on;
  try {
    return await fn();
  } finally {
    uniformReads.onCpu = saved;
  }
};

const UNIFORM = /\+uniform/;

/** The three convolution passes of one case with uniform filters on and off, compared. */
const compareConv = async (
  input: number[],
  filter: number[],
  options: Conv2dOptions,
  data: ConvOperands,
) => {
  const on = await withUniformReads(true, () => tracedPasses(input, filter, options, data));
  const off = await withUniformReads(false, () => tracedPasses(input, filter, options, data));
  const label = JSON.stringify({ input, filter, options });
  assert(!off.dispatches.some((d) => UNIFORM.test(d.kernel)), `${label}: uniform kernel when off`);
  for (const key of ["y", "dx", "dw"] as const) {
    assertSameForm(on[key], off[key], on.adapter, `${label} ${key}`);
  }
  return on.adapter.isFallback ? on.dispatches.filter((d) => UNIFORM.test(d.kernel)).length : 1;
};

Deno.test({
  name: "convolution filters read as uniform blocks equal storage and texture reads (y, dx, dw)",
  ...gpuTestOptions,
  fn: async () => {
    let uniform = 0;
    await fc.assert(
      fc.asyncProperty(registerGeometries, async (c) => {
        const data = drawOperands(new SeededRng(c.seed), c.input, c.filter, c.options);
        uniform += await compareConv(c.input, c.filter, c.options, data);
      }),
      { seed: 23, numRuns: 24 },
    );
    assert(uniform > 0, "no dispatch read its filter as a uniform block");
  },
});

Deno.test({
  name: "an RGB stem (7x7, stride 2) and a 64 KiB filter read as uniform blocks equal the others",
  ...gpuTestOptions,
  fn: async () => {
    const stem = {
      input: [2, 19, 17, 3],
      filter: [7, 7, 3, 16],
      options: { stride: 2, padding: 3 },
    };
    // 3 x 3 x 64 x 28 floats: 64512 bytes, just under the limit.
    const wide = { input: [1, 5, 6, 64], filter: [3, 3, 64, 28], options: { padding: 1 } };
    for (const [i, c] of [stem, wide].entries()) {
      const data = drawOperands(new SeededRng(i), c.input, c.filter, c.options);
      assert((await compareConv(c.input, c.filter, c.options, data)) > 0, `case ${i}`);
    }
  },
});

/** Batch norm's normalize pass (eval mode, or train mode past the one-pass rows) on and off. */
const normalizeOutputs = (rows: number, channels: number, mode: "train" | "eval", seed: number) =>
  runGpu(Effect.gen(function* () {
    const n = rows * channels;
    const values = seededValues(n + 4 * channels, seed);
    const perChannel = (k: number, f: (v: number) => number) =>
      fromArray(values.slice(n + k * channels, n + (k + 1) * channels).map(f), [channels], "f32");
    const x = yield* fromArray(
      values.slice(0, n).map((v) => 3 * v + 1),
      [1, rows, 1, channels],
      "f32",
    );
    const state = {
      weight: yield* perChannel(0, (v) => 1 + v),
      bias: yield* perChannel(1, (v) => v),
      runningMean: yield* perChannel(2, (v) => v),
      runningVar: yield* perChannel(3, (v) => 1 + Math.abs(v)),
    };
    const traced = yield* tracing(batchNorm(x, state, { mode, relu: seed % 2 === 0 }));
    return {
      y: yield* download(traced.result.y),
      kernels: traced.kernels,
      adapter: traced.adapter,
    };
  }));

Deno.test({
  name: "batch norm's normalize pass with uniform per-channel reads equals storage reads",
  ...gpuTestOptions,
  fn: async () => {
    const previous = setSinglePassRows(8);
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            rows: fc.integer({ min: 9, max: 300 }),
            channels: fc.constantFrom(4, 8, 20, 64, 68),
            mode: fc.constantFrom<"train" | "eval">("train", "eval"),
            seed: fc.integer({ min: 0, max: 1000 }),
          }),
          async (c) => {
            const on = await withUniformReads(
              true,
              () => normalizeOutputs(c.rows, c.channels, c.mode, c.seed),
            );
            const off = await withUniformReads(
              false,
              () => normalizeOutputs(c.rows, c.channels, c.mode, c.seed),
            );
            if (on.adapter.isFallback) {
              assert(on.kernels.some((k) => UNIFORM.test(k)), on.kernels.join(", "));
            }
            assert(!off.kernels.some((k) => UNIFORM.test(k)), off.kernels.join(", "));
            assertSameForm(on.y, off.y, on.adapter, JSON.stringify(c));
          },
        ),
        { seed: 5, numRuns: 20 },
      );
    } finally {
      setSinglePassRows(previous);
    }
  },
});

/** A kernel that copies a uniform block of Q vec4s into `out`. */
const copyKernel = defineKernel({
  name: "test/uniform_copy",
  source: `@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i < Q) { out[i] = load_table(i); }
}`,
  bindings: {
    table: { access: "read", type: "vec4f", via: "uniform", quads: "Q" },
    out: { access: "read_write", type: "vec4f" },
  },
  constants: { Q: "u32" },
  workgroupSize: [64, 1, 1],
  dispatch: (_p, c) => linearGrid(c.Q, 64),
});

Deno.test({
  name: "a uniform binding is declared with its constant's length and read whole",
  ...gpuTestOptions,
  fn: async () => {
    const header = kernelHeader(copyKernel as never, { Q: 3 }).text;
    assert(header.includes("var<uniform> table: array<vec4<f32>, Q>;"), header);
    const values = Float32Array.from({ length: 4096 * 4 }, (_, i) => i * 0.5 - 7);
    const copied = await runGpu(Effect.gen(function* () {
      const gpu = yield* Gpu;
      const table = yield* fromArray(values, [values.length], "f32");
      const out = yield* fromArray(new Float32Array(values.length), [values.length], "f32");
      yield* gpu.recorder.dispatch(copyKernel, { table, out }, {}, { Q: values.length / 4 });
      return yield* download(out);
    }));
    const wrong = copied.findIndex((v, i) => v !== values[i]);
    assert(wrong < 0, `element ${wrong}: ${copied[wrong]} against ${values[wrong]}`);
  },
});

Deno.test({
  name: "a uniform binding over 64 KiB, or not its declared length, is refused",
  ...gpuTestOptions,
  fn: async () => {
    for (const [elements, quads] of [[16388, 4097], [16, 3]]) {
      const exit = await runGpuResult(Effect.gen(function* () {
        const gpu = yield* Gpu;
        const table = yield* fromArray(new Float32Array(elements), [elements], "f32");
        const out = yield* fromArray(new Float32Array(elements), [elements], "f32");
        yield* gpu.recorder.dispatch(copyKernel, { table, out }, {}, { Q: quads });
      }));
      if (exit._tag !== "Failure" || exit.failure._tag !== "BindingError") {
        throw new Error(`${elements} elements as ${quads} quads: expected a BindingError`);
      }
      assert(exit.failure.reason.includes("uniform binding"), exit.failure.reason);
    }
  },
});

Deno.test("defineKernel refuses a uniform binding that is written, integer or unsized", () => {
  const bad = [
    { access: "read_write", type: "vec4f", via: "uniform", quads: "Q" },
    { access: "read", type: "i32", via: "uniform", quads: "Q" },
    { access: "read", type: "vec4f", via: "uniform", quads: "MISSING" },
  ] as const;
  for (const spec of bad) {
    throws(
      () =>
        defineKernel({
          name: "test/bad_uniform",
          source: "",
          bindings: { table: spec },
          constants: { Q: "u32" },
          workgroupSize: [1, 1, 1],
          dispatch: () => [1, 1, 1],
        }),
      (e: unknown) => e instanceof TypeError && e.message.includes("uniform binding"),
    );
  }
});

/** Bilinear resize with the source read as a uniform block or not, and the kernels. */
const resized = (shape: number[], outH: number, outW: number, seed: number) =>
  runGpu(Effect.gen(function* () {
    const x = yield* fromArray(
      seededValues(shape.reduce((a, b) => a * b, 1), seed),
      shape,
      "f32",
    );
    const traced = yield* tracing(Effect.gen(function* () {
      return yield* download(yield* resizeBilinear(x, outH, outW));
    }));
    return { values: traced.result, kernels: traced.kernels, adapter: traced.adapter };
  }));

Deno.test({
  name: "bilinear resize over pixels from a uniform block equals the per-element kernels",
  ...gpuTestOptions,
  fn: async () => {
    const cases: [number[], number, number][] = [
      [[2, 3, 4, 17], 7, 9], // f32 channels, up
      [[1, 4, 4, 8], 2, 3], // channel quads, down
      [[2, 4, 4, 64], 16, 16], // features at an output stride
      [[1, 2, 2, 21], 64, 64], // logits of a later step
    ];
    for (const [i, [shape, outH, outW]] of cases.entries()) {
      const on = await withUniformReads(true, () => resized(shape, outH, outW, i));
      const off = await withUniformReads(false, () => resized(shape, outH, outW, i));
      if (on.adapter.isFallback) assert(on.kernels.some((k) => UNIFORM.test(k)), on.kernels.join());
      assert(!off.kernels.some((k) => UNIFORM.test(k)), off.kernels.join());
      assertSameForm(on.values, off.values, on.adapter, `[${shape}] to ${outH}x${outW}`);
    }
    // Past 64 KiB, or not whole vec4s, the source is read as before.
    const odd = await withUniformReads(true, () => resized([1, 2, 3, 21], 5, 5, 8));
    assert(!odd.kernels.some((k) => UNIFORM.test(k)), odd.kernels.join());
    const large = await withUniformReads(true, () => resized([1, 64, 64, 5], 3, 3, 9));
    assert(!large.kernels.some((k) => UNIFORM.test(k)), large.kernels.join());
  },
});
