/**
 * The cross-entropy kernels, which read their logits one f32 at a time (at
 * the 16 classes timed here the plain loss takes its channel-quad kernels, a
 * vec4 a load; MiB's unbiased loss keeps one f32), and batch norm's one-pass
 * kernels, which walk a channel quad's rows in order,
 * timed with storage-buffer reads and with texture reads (`textureReads`,
 * src/ops/texture_reads.ts) interleaved on the adapter at hand: ms a call and
 * the ratio, at the `small` training step's shapes (batch 8, 64x64, 16
 * classes; batch norm at 16x16 x 16 channels and 8x8 x 64). Both forms give
 * the same values (tests/ops/ce_texture_test.ts, norm_quads_test.ts check it
 * bit for bit); this measures what the copy buys, which decides
 * `textureReads.withoutAvx512OnCpu`: with llvmpipe's AVX-512 code it costs, with
 * AVX2 alone it pays.
 *
 *     deno run -A bench/read_paths.ts [--rounds 5]
 *     GALLIUM_OVERRIDE_CPU_CAPS=avx deno run -A bench/read_paths.ts   # llvmpipe's AVX2 code
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import type { Gpu } from "../src/gpu/device.ts";
import type { GpuError } from "../src/gpu/errors.ts";
import {
  crossEntropy,
  crossEntropyBackward,
  unbiasedCrossEntropy,
  unbiasedCrossEntropyBackward,
} from "../src/ops/cross_entropy.ts";
import { batchNorm, batchNormBackward } from "../src/ops/norm.ts";
import { textureReads } from "../src/ops/texture_reads.ts";
import { fromArray } from "../src/tensor/tensor.ts";
import { values } from "./conv.ts";
import { benchSwitch, roundsArg, type SwitchOps } from "./switch.ts";

const PIXELS = 8 * 64 * 64;
const CLASSES = 16;

/** Sets texture reads on or off everywhere; returns the restore. */
const setReads = (on: boolean) => {
  const saved = { ...textureReads };
  Object.assign(textureReads, { onCpu: on, onGpu: on, withoutAvx512OnCpu: on });
  return () => Object.assign(textureReads, saved);
};

/** The timed ops: a label and the op's recording. */
const ops: SwitchOps = Effect.gen(function* () {
  const shape = [8, 64, 64, CLASSES];
  const logits = yield* fromArray(values(PIXELS * CLASSES, 1), shape, "f32");
  const labels = yield* fromArray(
    Int32Array.from(
      { length: PIXELS },
      (_, i) => (i * 7) % (CLASSES + 1) === CLASSES ? 255 : (i * 7) % CLASSES,
    ),
    [8, 64, 64],
    "i32",
  );
  const weights = yield* fromArray(values(PIXELS, 2).map(Math.abs), [8, 64, 64], "f32");
  const forward = yield* crossEntropy(logits, labels, { weights });
  const unbiased = yield* unbiasedCrossEntropy(logits, labels, 11);
  const one = yield* fromArray([1], [1], "f32");
  const norms: [string, Effect.Effect<unknown, GpuError, Gpu | Scope.Scope>][] = [];
  for (const [size, channels] of [[16, 16], [8, 64]]) {
    const x = yield* fromArray(
      values(8 * size * size * channels, 3),
      [8, size, size, channels],
      "f32",
    );
    const filled = (v: number) => fromArray(new Float32Array(channels).fill(v), [channels], "f32");
    const ones = yield* filled(1);
    // The running stats are written in place: tensors of their own.
    const state = {
      weight: ones,
      bias: yield* filled(0),
      runningMean: yield* filled(0),
      runningVar: yield* filled(1),
    };
    const normed = yield* batchNorm(x, state, { mode: "train", relu: true });
    const shape = `${size}x${size}x${channels}`;
    norms.push(
      [`batch norm one-pass forward ${shape}`, batchNorm(x, state, { mode: "train", relu: true })],
      [
        `batch norm one-pass backward ${shape}`,
        batchNormBackward(x, x, normed.stats, ones, "train", undefined, normed.y),
      ],
    );
  }
  return [
    ...norms,
    ["cross-entropy forward (weighted)", crossEntropy(logits, labels, { weights })],
    [
      "cross-entropy backward (weighted)",
      crossEntropyBackward(logits, labels, one, forward.totals, { weights }),
    ],
    ["unbiased cross-entropy forward", unbiasedCrossEntropy(logits, labels, 11)],
    [
      "unbiased cross-entropy backward",
      unbiasedCrossEntropyBackward(logits, labels, 11, one, unbiased.totals),
    ],
  ] as const satisfies readonly (readonly [
    string,
    Effect.Effect<unknown, GpuError, Gpu | Scope.Scope>,
  ])[];
});

/** Prints the table: ms a call with buffer reads and with texture reads, and their ratio. */
export const benchReadPaths = (rounds: number): Promise<void> =>
  benchSwitch({
    title: "Buffer reads against texture reads",
    header: ["op (batch 8)", "buffers ms", "textures ms", "buffers / textures"],
    ops,
    setting: setReads,
    digits: 2,
  }, rounds);

if (import.meta.main) await benchReadPaths(roundsArg(Deno.args));
