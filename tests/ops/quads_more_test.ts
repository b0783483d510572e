/**
 * The channel-quad forms of max pool (forward and gather backward), of the
 * chunked batch norm's elementwise passes (normalize, input gradient) and of
 * the f32 fill: the scalar kernels' results (bit for bit, except the batch
 * norm passes on a GPU: `assertSameForm`), and within the float64
 * references.
 */
import fc from "fast-check";
import { Effect } from "effect";
import { maxPool2d, maxPool2dBackward, setPoolQuads } from "../../src/ops/pool.ts";
import {
  batchNorm,
  batchNormBackward,
  setChannelQuads,
  setSinglePassRows,
} from "../../src/ops/norm.ts";
import { fillInto } from "../../src/ops/core.ts";
import { maxPoolBackwardReference, maxPoolReference } from "../reference/pool.ts";
import { batchNormBackwardReference, batchNormTrainReference } from "../reference/norm.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { seededValues } from "../support/arbitrary.ts";
import { assertSameForm, bits, tracing } from "../support/tracing.ts";

const poolCase = fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  h: fc.integer({ min: 3, max: 11 }),
  w: fc.integer({ min: 3, max: 9 }),
  c: fc.constantFrom(4, 8, 20),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
  // Few distinct values make ties common; NaN in some cases.
  levels: fc.constantFrom(3, 1000),
  nan: fc.boolean(),
  geometry: fc.constantFrom(
    { kernel: 3, stride: 2, padding: 1 },
    { kernel: 2, stride: 2, padding: 0 },
    { kernel: 5, stride: 2, padding: 2 },
  ),
});

Deno.test({
  name: "max pool on channel quads equals the scalar kernels bit for bit and the reference",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(poolCase, async (k) => {
        const shape = [k.n, k.h, k.w, k.c];
        const x = seededValues(k.n * k.h * k.w * k.c, k.seed).map((v, i) =>
          k.nan && i % 11 === 3 ? Number.NaN : Math.round(v * k.levels)
        );
        const run = (quads: boolean) =>
          runGpu(tracing(Effect.gen(function* () {
            const previous = setPoolQuads(quads);
            try {
              const { y, argmax } = yield* maxPool2d(yield* fromArray(x, shape, "f32"), k.geometry);
              const dy = seededValues(y.elements, k.seed + 1).map((v) => Math.round(v * 16));
              const dx = yield* maxPool2dBackward(
                yield* fromArray(dy, y.shape, "f32"),
                argmax,
                shape,
                k.geometry,
              );
              return {
                y: yield* download(y),
                argmax: yield* download(argmax),
                dx: yield* download(dx),
                dy,
                outShape: y.shape,
              };
            } finally {
              setPoolQuads(previous);
            }
          })));
        const quads = await run(true);
        const scalar = await run(false);
        const pools = (names: string[]) => names.filter((n) => n.includes("/pool/"));
        if (!pools(quads.kernels).every((n) => n.includes("_vec4"))) {
          throw new Error(`quad run took ${quads.kernels}`);
        }
        if (pools(scalar.kernels).some((n) => n.includes("_vec4"))) {
          throw new Error(`scalar run took ${scalar.kernels}`);
        }
        for (const key of ["y", "argmax", "dx"] as const) {
          if (bits(quads.result[key]) !== bits(scalar.result[key])) {
            throw new Error(`${key} differs (${JSON.stringify(k)})`);
          }
        }
        if (!k.nan) {
          const ref = maxPoolReference(x, shape, k.geometry);
          assertClose(quads.result.y, ref.y, 0, 0, "y");
          assertClose(quads.result.argmax, ref.argmax, 0, 0, "argmax");
          const dxRef = maxPoolBackwardReference(quads.result.dy, ref.argmax, shape, ref.shape);
          assertClose(quads.result.dx, dxRef, 0, 0, "dx");
        }
      }),
      { seed: 5, numRuns: 25 },
    );
  },
});

Deno.test({
  name:
    "the chunked batch norm's normalize and input gradient on channel quads equal the scalar ones",
  ...gpuTestOptions,
  fn: async () => {
    const cases = fc.record({
      rows: fc.integer({ min: 2, max: 300 }),
      channels: fc.constantFrom(4, 12, 68),
      relu: fc.boolean(),
      train: fc.boolean(),
      seed: fc.integer({ min: 0, max: 1000 }),
    });
    await fc.assert(
      fc.asyncProperty(cases, async (k) => {
        const n = k.rows * k.channels;
        const values = seededValues(2 * n + 2 * k.channels, k.seed);
        const x = values.slice(0, n).map((v) => 2 * v + 0.5);
        const dy = values.slice(n, 2 * n);
        const weight = values.slice(2 * n, 2 * n + k.channels).map((v) => 1 + v);
        const bias = values.slice(2 * n + k.channels);
        const shape = [1, k.rows, 1, k.channels];
        const run = (quads: boolean) =>
          runGpu(tracing(Effect.gen(function* () {
            const previousQuads = setChannelQuads(quads);
            const previousRows = setSinglePassRows(0);
            try {
              const state = {
                weight: yield* fromArray(weight, [k.channels], "f32"),
                bias: yield* fromArray(bias, [k.channels], "f32"),
                runningMean: yield* fromArray(new Float32Array(k.channels), [k.channels], "f32"),
                runningVar: yield* fromArray(
                  new Float32Array(k.channels).fill(1),
                  [k.channels],
                  "f32",
                ),
              };
              const xt = yield* fromArray(x, shape, "f32");
              const forward = yield* batchNorm(xt, state, { mode: "train", relu: k.relu });
              const grads = yield* batchNormBackward(
                xt,
                yield* fromArray(dy, shape, "f32"),
                forward.stats,
                state.weight,
                k.train ? "train" : "eval",
                undefined,
                k.relu ? forward.y : undefined,
              );
              return {
                y: yield* download(forward.y),
                dx: yield* download(grads.dx),
                dWeight: yield* download(grads.dWeight),
              };
            } finally {
              setChannelQuads(previousQuads);
              setSinglePassRows(previousRows);
            }
          })));
        const quads = await run(true);
        const scalar = await run(false);
        for (const name of ["normalize_vec4", "backward_input_vec4"]) {
          if (!quads.kernels.some((kernel) => kernel.includes(name))) {
            throw new Error(`${name} not taken: ${quads.kernels}`);
          }
        }
        if (
          scalar.kernels.some((kernel) => kernel.includes("/norm/") && kernel.includes("_vec4"))
        ) {
          throw new Error(`scalar run took ${scalar.kernels}`);
        }
        for (const key of ["y", "dx", "dWeight"] as const) {
          assertSameForm(quads.result[key], scalar.result[key], quads.adapter, key);
        }
        if (!k.relu) {
          const ones = new Float64Array(k.channels).fill(1);
          const ref = batchNormTrainReference(x, weight, bias, new Float64Array(k.channels), ones);
          assertClose(quads.result.y, ref.y, 1e-5, 1e-4, "y");
          const grads = batchNormBackwardReference(x, dy, ref, weight, k.train);
          assertClose(quads.result.dx, grads.dx, 1e-4, 1e-3, "dx");
        }
      }),
      { seed: 9, numRuns: 20 },
    );
  },
});

Deno.test({
  name: "fill stores the value's exact bits, a quad at a time for f32 tensors of whole quads",
  ...gpuTestOptions,
  fn: async () => {
    const values = [0, -0, 1.5, -3e38, Number.POSITIVE_INFINITY, 1e-40, 7];
    for (const length of [4, 12, 7]) {
      for (const value of values) {
        const { result, kernels } = await runGpu(tracing(Effect.gen(function* () {
          const t = yield* fromArray(new Float32Array(length).fill(9), [length], "f32");
          yield* fillInto(t, value);
          return yield* download(t);
        })));
        const expected = new Float32Array(length).fill(value);
        if (bits(result) !== bits(expected)) throw new Error(`fill ${value} x${length}: ${result}`);
        const quad = kernels.some((k) => k.includes("fill_vec4"));
        if (quad !== (length % 4 === 0)) throw new Error(`fill x${length} took ${kernels}`);
      }
    }
    // NaN and the integer types keep the scalar kernel (their bits are not f32 values).
    const { kernels } = await runGpu(tracing(Effect.gen(function* () {
      yield* fillInto(yield* fromArray(new Float32Array(8), [8], "f32"), Number.NaN);
      yield* fillInto(yield* fromArray(new Int32Array(8), [8], "i32"), -1);
    })));
    if (kernels.some((k) => k.includes("fill_vec4"))) throw new Error(`took ${kernels}`);
  },
});
