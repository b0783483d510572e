/**
 * The kernels that read small tensors as uniform blocks on a CPU adapter
 * (`uniformReads`, src/ops/uniform_reads.ts) timed with and without them,
 * interleaved on the adapter at hand: ms a call and the ratio, at the `small`
 * training step's shapes (batch 8, 64x64 input): the convolutions whose
 * filters hold at most 64 KiB (forward and input gradient; the RGB stem's
 * forward), batch norm's normalize pass (eval mode, as the old model and
 * every evaluation run it) and the bilinear upsampling of logits and features
 * from the output stride (per pixel from a uniform block against per element
 * from a storage buffer or texture). Both forms give the same values
 * (tests/ops/uniform_reads_test.ts checks it bit for bit); this measures
 * what the uniform block buys.
 *
 *     deno run -A bench/uniform_reads.ts [--rounds 5]
 *     GALLIUM_OVERRIDE_CPU_CAPS=avx deno run -A bench/uniform_reads.ts   # llvmpipe's AVX2 code
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import type { Gpu } from "../src/gpu/device.ts";
import type { GpuError } from "../src/gpu/errors.ts";
import { conv2dBackwardInput, conv2dForward } from "../src/ops/conv.ts";
import { batchNorm } from "../src/ops/norm.ts";
import { resizeBilinear } from "../src/ops/resize.ts";
import { uniformReads } from "../src/ops/uniform_reads.ts";
import { fromArray } from "../src/tensor/tensor.ts";
import { values } from "./conv.ts";
import { benchSwitch, roundsArg, type SwitchOps } from "./switch.ts";

/** Sets uniform reads on or off; returns the restore. */
const setUniform = (on: boolean) => {
  const saved = uniformReads.onCpu;
  uniformReads.onCpu = on;
  return () => {
    uniformReads.onCpu = saved;
  };
};

/** The `small` model's convolutions with filters of at most 64 KiB: input, filter, options. */
const CONVS = [
  { input: [8, 64, 64, 3], filter: [7, 7, 3, 16], options: { stride: 2, padding: 3 } },
  { input: [8, 16, 16, 16], filter: [3, 3, 16, 16], options: { padding: 1 } },
  { input: [8, 16, 16, 16], filter: [3, 3, 16, 32], options: { stride: 2, padding: 1 } },
  { input: [8, 8, 8, 32], filter: [3, 3, 32, 32], options: { padding: 1 } },
  { input: [8, 4, 4, 128], filter: [1, 1, 128, 64], options: {} },
] as const;

/** The timed ops: a label and the op's recording. */
const ops: SwitchOps = Effect.gen(function* () {
  const timed: [string, Effect.Effect<unknown, GpuError, Gpu | Scope.Scope>][] = [];
  for (const [i, c] of CONVS.entries()) {
    const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
    const x = yield* fromArray(values(size(c.input), i), [...c.input], "f32");
    const w = yield* fromArray(values(size(c.filter), i + 1), [...c.filter], "f32");
    const y = yield* conv2dForward(x, w, undefined, c.options);
    const shape = `${c.input.join("x")} * ${c.filter.join("x")}` +
      ("stride" in c.options ? ` s${c.options.stride}` : "");
    timed.push([`conv forward ${shape}`, conv2dForward(x, w, undefined, c.options)]);
    if (c.input[3] % 4 === 0) {
      timed.push([
        `conv input gradient ${shape}`,
        conv2dBackwardInput(y, w, [...c.input], c.options),
      ]);
    }
  }
  for (const [size, channels] of [[32, 16], [16, 16], [4, 128]]) {
    const x = yield* fromArray(
      values(8 * size * size * channels, 3),
      [8, size, size, channels],
      "f32",
    );
    const filled = (v: number) => fromArray(new Float32Array(channels).fill(v), [channels], "f32");
    const state = {
      weight: yield* filled(1),
      bias: yield* filled(0),
      runningMean: yield* filled(0),
      runningVar: yield* filled(1),
    };
    timed.push([
      `batch norm eval ${size}x${size}x${channels}`,
      batchNorm(x, state, { mode: "eval", relu: true }),
    ]);
  }
  for (const shape of [[8, 4, 4, 16], [8, 4, 4, 17], [8, 4, 4, 64]]) {
    const x = yield* fromArray(values(shape.reduce((a, b) => a * b, 1), 5), shape, "f32");
    timed.push([`bilinear ${shape.join("x")} to 64x64`, resizeBilinear(x, 64, 64)]);
  }
  return timed;
});

/** Prints the table: ms a call with storage or texture reads and with uniform reads, and their ratio. */
export const benchUniformReads = (rounds: number): Promise<void> =>
  benchSwitch({
    title: "Uniform reads of small tensors",
    header: ["op (batch 8)", "storage/texture ms", "uniform ms", "ratio"],
    ops,
    setting: setUniform,
    digits: 3,
  }, rounds);

if (import.meta.main) await benchUniformReads(roundsArg(Deno.args));
