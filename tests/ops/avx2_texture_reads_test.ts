/**
 * The elementwise kernels that read through texture copies where llvmpipe has
 * no AVX-512 code (`textureReads.withoutAvx512OnCpu`): binary ops and axpy on
 * quads, max pool's backward and batch norm's input gradient (the chunked
 * path) give what storage-buffer reads give, bit for bit on a CPU adapter
 * (`assertSameForm`), on random shapes, every binary op and broadcast period.
 * The test switches the texture form on and off itself and checks which
 * kernels ran in each.
 */
import fc from "fast-check";
import { Effect } from "effect";
import { Gpu } from "../../src/gpu/device.ts";
import { axpyInto, binaryInto, BinaryOp, type BinaryOpName } from "../../src/ops/elementwise.ts";
import { maxPool2d, maxPool2dBackward } from "../../src/ops/pool.ts";
import { batchNorm, batchNormBackward, setSinglePassRows } from "../../src/ops/norm.ts";
import { textureReads } from "../../src/ops/texture_reads.ts";
import { download, empty, fromArray } from "../../src/tensor/tensor.ts";
import { SeededRng } from "../../src/util/rng.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { assertSameForm, tracing } from "../support/tracing.ts";

interface Case {
  readonly rows: number;
  readonly channels: number;
  readonly period: number;
  readonly op: BinaryOpName;
  readonly alpha: number;
  readonly seed: number;
}

/** The kernels this test switches, by the name their texture form extends. */
const SWITCHED = [
  "shaders/elementwise/binary_vec4.wgsl",
  "shaders/elementwise/axpy_vec4.wgsl",
  "shaders/pool/max_pool_backward_vec4.wgsl",
  "shaders/norm/backward_input_vec4.wgsl",
];

const NAMES = ["binary", "axpy", "max pool dx", "batch norm dx", "batch norm dweight"];

/** Every output of one case with the texture form on or off, the kernels run, and the adapter. */
const run = (c: Case, textures: boolean) => {
  const saved = { ...textureReads };
  Object.assign(textureReads, { withoutAvx512OnCpu: textures, onGpu: textures });
  // The chunked batch-norm backward (whose last pass is backward_input_vec4).
  const singlePass = setSinglePassRows(0);
  const rng = new SeededRng(c.seed);
  const n = c.rows * c.channels;
  const values = (length: number, lo = -4, hi = 4) =>
    Float32Array.from({ length }, () => rng.uniform(lo, hi));
  // Some zeros, so max/min/relu-like ops and passWherePositive meet ties and signs.
  const a = values(n).map((v, i) => (i % 7 === 0 ? 0 : v));
  const b = values(c.period).map((v, i) => (i % 5 === 0 ? 0 : v));
  const y0 = values(n);
  const dyPool = values(n / 4);
  const dyNorm = values(n);
  const weight = values(c.channels, 0.5, 2);
  const bias = values(c.channels);
  return runGpu(Effect.gen(function* () {
    const shape = [1, c.rows, 1, c.channels];
    const ta = yield* fromArray(a, shape, "f32");
    const tb = yield* fromArray(b, [c.period], "f32");
    const traced = yield* tracing(Effect.gen(function* () {
      const out = yield* empty(shape, "f32");
      yield* binaryInto(c.op, ta, tb, out);
      const y = yield* fromArray(y0, shape, "f32");
      yield* axpyInto(tb, y, c.alpha);
      // A 2x2 max pool of stride 2 over [1, rows / 2, 2, channels] (rows a multiple of 4).
      const poolShape = [1, c.rows / 2, 2, c.channels];
      const x = yield* fromArray(a, poolShape, "f32");
      const pooled = yield* maxPool2d(x, { kernel: 2, stride: 2, padding: 0 });
      const dyp = yield* fromArray(dyPool.subarray(0, pooled.y.elements), pooled.y.shape, "f32");
      const dxPool = yield* maxPool2dBackward(dyp, pooled.argmax, poolShape, {
        kernel: 2,
        stride: 2,
        padding: 0,
      });
      const state = {
        weight: yield* fromArray(weight, [c.channels], "f32"),
        bias: yield* fromArray(bias, [c.channels], "f32"),
        runningMean: yield* fromArray(new Float32Array(c.channels), [c.channels], "f32"),
        runningVar: yield* fromArray(new Float32Array(c.channels).fill(1), [c.channels], "f32"),
      };
      const forward = yield* batchNorm(ta, state, { mode: "train", relu: true });
      const dy = yield* fromArray(dyNorm, shape, "f32");
      const grads = yield* batchNormBackward(
        ta,
        dy,
        forward.stats,
        state.weight,
        "train",
        undefined,
        forward.y,
      );
      const outputs = [out, y, dxPool, grads.dx, grads.dWeight];
      const downloaded: Float32Array[] = [];
      for (const t of outputs) downloaded.push(yield* download(t));
      return downloaded;
    }));
    return { outputs: traced.result, kernels: traced.kernels, adapter: (yield* Gpu).adapter };
  })).finally(() => {
    Object.assign(textureReads, saved);
    setSinglePassRows(singlePass);
  });
};

const ops = Object.keys(BinaryOp) as BinaryOpName[];

Deno.test({
  name: "binary, axpy, max pool backward and batch norm's dx through texture copies equal " +
    "storage-buffer reads bit for bit",
  ...gpuTestOptions,
  fn: async () => {
    const cases = fc.record({
      // Rows a multiple of 4 (the pool's windows), channels in quads.
      rows: fc.integer({ min: 1, max: 20 }).map((r) => 4 * r),
      channels: fc.integer({ min: 1, max: 12 }).map((q) => 4 * q),
      op: fc.constantFrom(...ops),
      alpha: fc.constantFrom(1, -0.5, 3),
      seed: fc.integer({ min: 0, max: 1000 }),
    }).chain((r) =>
      // b repeats: one quad, one row's channels, or the whole tensor.
      fc.constantFrom(4, r.channels, r.rows * r.channels).map((period) => ({ ...r, period }))
    );
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const textures = await run(c, true);
        const buffers = await run(c, false);
        for (const name of SWITCHED) {
          if (!textures.kernels.includes(`${name}+textures`)) {
            throw new Error(`${name}+textures did not run: ${textures.kernels}`);
          }
          if (!buffers.kernels.includes(name)) {
            throw new Error(`${name} did not run with texture reads off: ${buffers.kernels}`);
          }
        }
        if (buffers.kernels.some((k) => SWITCHED.some((s) => k === `${s}+textures`))) {
          throw new Error(`a texture kernel ran with texture reads off: ${buffers.kernels}`);
        }
        for (const [i, name] of NAMES.entries()) {
          assertSameForm(textures.outputs[i], buffers.outputs[i], textures.adapter, name);
        }
      }),
      { seed: 1202, numRuns: 24 },
    );
  },
});
