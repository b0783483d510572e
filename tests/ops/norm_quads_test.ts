/**
 * The channel-quad forms of the one-pass batch-norm kernels
 * (forward_single_vec4.wgsl, backward_single_vec4.wgsl), taken when the
 * channels come in quads: bit for bit the scalar kernels' statistics,
 * running stats, outputs and gradients on a CPU adapter (within a few ulps on
 * a GPU: `assertSameForm`), on every mode, and within the float64 reference.
 */
import fc from "fast-check";
import { Effect } from "effect";
import {
  batchNorm,
  batchNormBackward,
  type BatchNormMode,
  setChannelQuads,
} from "../../src/ops/norm.ts";
import { Gpu } from "../../src/gpu/device.ts";
import { batchNormBackwardReference, batchNormTrainReference } from "../reference/norm.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { seededValues } from "../support/arbitrary.ts";
import { assertSameForm } from "../support/tracing.ts";
import { textureReads } from "../../src/ops/texture_reads.ts";

interface Case {
  readonly rows: number;
  readonly channels: number;
  readonly relu: boolean;
  readonly mode: BatchNormMode;
  readonly accumulate: boolean;
  readonly seed: number;
}

/** Forward (train mode) then backward in `c.mode`; every output downloaded, and the kernels run. */
const run = (c: Case, quads: boolean) =>
  runGpu(Effect.gen(function* () {
    const gpu = yield* Gpu;
    const kernels: string[] = [];
    const original = gpu.recorder.dispatch.bind(gpu.recorder);
    // deno-lint-ignore no-explicit-any
    (gpu.recorder as any).dispatch = (kernel: { name: string }, ...rest: any[]) => {
      kernels.push(kernel.name);
      // deno-lint-ignore no-explicit-any
      return (original as any)(kernel, ...rest);
    };
    const previous = setChannelQuads(quads);
    try {
      const n = c.rows * c.channels;
      const shape = [1, c.rows, 1, c.channels];
      const values = seededValues(2 * n + 6 * c.channels, c.seed);
      const slice = (k: number, f: (v: number) => number) =>
        values.slice(2 * n + k * c.channels, 2 * n + (k + 1) * c.channels).map(f);
      const inputs = {
        x: values.slice(0, n).map((v) => 3 * v + 1),
        dy: values.slice(n, 2 * n),
        weight: slice(0, (v) => 1 + v),
        bias: slice(1, (v) => v),
        runningMean: slice(2, (v) => v),
        runningVar: slice(3, (v) => 1 + Math.abs(v)),
      };
      const x = yield* fromArray(inputs.x, shape, "f32");
      const dy = yield* fromArray(inputs.dy, shape, "f32");
      const perChannel = (k: number, f: (v: number) => number) =>
        fromArray(slice(k, f), [c.channels], "f32");
      const state = {
        weight: yield* fromArray(inputs.weight, [c.channels], "f32"),
        bias: yield* fromArray(inputs.bias, [c.channels], "f32"),
        runningMean: yield* fromArray(inputs.runningMean, [c.channels], "f32"),
        runningVar: yield* fromArray(inputs.runningVar, [c.channels], "f32"),
      };
      const forward = yield* batchNorm(x, state, { mode: "train", relu: c.relu });
      const into = c.accumulate
        ? { weight: yield* perChannel(4, (v) => v), bias: yield* perChannel(5, (v) => v) }
        : undefined;
      const grads = yield* batchNormBackward(
        x,
        dy,
        forward.stats,
        state.weight,
        c.mode,
        into,
        c.relu ? forward.y : undefined,
      );
      const outputs = [
        forward.y,
        forward.stats,
        state.runningMean,
        state.runningVar,
        grads.dx,
        grads.dWeight,
        grads.dBias,
      ];
      const downloaded: Float32Array[] = [];
      for (const t of outputs) downloaded.push(yield* download(t));
      return { outputs: downloaded, kernels, inputs, adapter: gpu.adapter };
    } finally {
      setChannelQuads(previous);
      // deno-lint-ignore no-explicit-any
      delete (gpu.recorder as any).dispatch;
    }
  }));

const NAMES = ["y", "stats", "running mean", "running var", "dx", "dWeight", "dBias"];

const cases = fc.record({
  // Up to the one-pass limit; 4 to 68 channels (17 quads: past one workgroup of 16 quads).
  rows: fc.oneof(fc.integer({ min: 2, max: 40 }), fc.constantFrom(511, 2048)),
  channels: fc.constantFrom(4, 8, 16, 20, 64, 68),
  relu: fc.boolean(),
  mode: fc.constantFrom<BatchNormMode>("train", "eval"),
  accumulate: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1000 }),
});

Deno.test({
  name:
    "one-pass batch norm on channel quads equals the scalar kernels (bit for bit on a CPU adapter)",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const quads = await run(c, true);
        const scalar = await run(c, false);
        if (!quads.kernels.some((k) => k.includes("forward_single_vec4"))) {
          throw new Error(`the quad forward was not taken: ${quads.kernels.join(", ")}`);
        }
        if (!quads.kernels.some((k) => k.includes("backward_single_vec4"))) {
          throw new Error(`the quad backward was not taken: ${quads.kernels.join(", ")}`);
        }
        if (scalar.kernels.some((k) => k.includes("_vec4"))) {
          throw new Error(`the scalar run took a quad kernel: ${scalar.kernels.join(", ")}`);
        }
        for (const [i, name] of NAMES.entries()) {
          assertSameForm(quads.outputs[i], scalar.outputs[i], quads.adapter, name);
        }
      }),
      { seed: 17, numRuns: 30 },
    );
  },
});

Deno.test({
  name: "one-pass batch norm on channel quads matches the float64 reference",
  ...gpuTestOptions,
  fn: async () => {
    for (const [i, channels] of [8, 68].entries()) {
      const c: Case = {
        rows: 300,
        channels,
        relu: false,
        mode: "train",
        accumulate: false,
        seed: i,
      };
      const { outputs, inputs } = await run(c, true);
      const { x, dy, weight, bias, runningMean, runningVar } = inputs;
      const forward = batchNormTrainReference(x, weight, bias, runningMean, runningVar);
      assertClose(outputs[0], forward.y, 1e-5, 1e-4, "y");
      assertClose(outputs[2], forward.runningMean, 1e-6, 1e-5, "running mean");
      assertClose(outputs[3], forward.runningVar, 1e-6, 1e-5, "running var");
      const backward = batchNormBackwardReference(x, dy, forward, weight, true);
      assertClose(outputs[4], backward.dx, 1e-4, 1e-3, "dx");
      assertClose(outputs[5], backward.dWeight, 1e-3, 1e-4, "dWeight");
      assertClose(outputs[6], backward.dBias, 1e-3, 1e-4, "dBias");
    }
  },
});

Deno.test({
  name: "one-pass batch norm reading through texture copies equals storage-buffer reads",
  ...gpuTestOptions,
  fn: async () => {
    const withReads = async (on: boolean, c: Case) => {
      const saved = { ...textureReads };
      Object.assign(textureReads, { onCpu: on, onGpu: on, withoutAvx512OnCpu: on });
      try {
        return await run(c, true);
      } finally {
        Object.assign(textureReads, saved);
      }
    };
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const textures = await withReads(true, c);
        const buffers = await withReads(false, c);
        const textured = textures.kernels.filter((k) => k.endsWith("+textures")).length;
        if (textured !== 2) throw new Error(`${textured} texture kernels: ${textures.kernels}`);
        if (buffers.kernels.some((k) => k.endsWith("+textures"))) {
          throw new Error(`a texture kernel ran with texture reads off: ${buffers.kernels}`);
        }
        for (const [i, name] of NAMES.entries()) {
          assertSameForm(textures.outputs[i], buffers.outputs[i], textures.adapter, name);
        }
      }),
      { seed: 23, numRuns: 20 },
    );
  },
});
