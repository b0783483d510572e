/**
 * conv2d throughput (GFLOP/s) of the forward pass, the input gradient and the
 * filter gradient, ours against TF.js's WebGPU backend, in one run on the
 * same adapter. `deno run -A bench/conv.ts [--ours-only]`.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-webgpu";
import { Gpu } from "../src/gpu/device.ts";
import type { GpuError } from "../src/gpu/errors.ts";
import {
  conv2dBackwardFilter,
  conv2dBackwardInput,
  conv2dFlops,
  conv2dForward,
  conv2dGeometry,
  type Conv2dOptions,
  type ConvGeometry,
} from "../src/ops/conv.ts";
import { fromArray, type Tensor } from "../src/tensor/tensor.ts";
import { adapterLine, runBench, table } from "./support.ts";

/** A convolution shape of the table. */
export interface Case {
  readonly label: string;
  readonly input: readonly [number, number, number, number];
  readonly filter: readonly [number, number, number, number];
  readonly options: Conv2dOptions & { readonly stride?: number; readonly padding?: number };
}

/** The table's shapes (the model's kinds of convolution at batch 8). */
export const cases: readonly Case[] = [
  {
    label: "8x64x64x32->32 3x3 p1",
    input: [8, 64, 64, 32],
    filter: [3, 3, 32, 32],
    options: { padding: 1 },
  },
  {
    label: "8x32x32x64->64 3x3 p1",
    input: [8, 32, 32, 64],
    filter: [3, 3, 64, 64],
    options: { padding: 1 },
  },
  {
    label: "8x32x32x64->64 3x3 p1 s2",
    input: [8, 32, 32, 64],
    filter: [3, 3, 64, 64],
    options: { padding: 1, stride: 2 },
  },
  {
    label: "8x16x16x128->128 3x3 d2 p2",
    input: [8, 16, 16, 128],
    filter: [3, 3, 128, 128],
    options: { padding: 2, dilation: 2 },
  },
  { label: "8x32x32x64->256 1x1", input: [8, 32, 32, 64], filter: [1, 1, 64, 256], options: {} },
]; // deno-fmt-ignore

/** Seconds a measurement aims for (the whole table must stay within a few minutes). */
const TARGET_SECONDS = 1;

/** Fixed values in [-0.5, 0.5] for benchmark operands. */
export const values = (length: number, seed: number): Float32Array =>
  Float32Array.from({ length }, (_, i) => Math.sin(i * 0.37 + seed) * 0.5);

/** Timed batches per measurement; the fastest counts (other work may share the cores). */
const BATCHES = 3;

/** Repetitions per batch so that a batch lasts about TARGET_SECONDS / BATCHES. */
const repsFor = (single: number) =>
  Math.max(1, Math.min(50, Math.round(TARGET_SECONDS / BATCHES / single)));

/** Runs `reps` calls and waits for them; resolves to the seconds per call. */
export type Batch = (reps: number) => Promise<number>;

/**
 * A batch of our op: `reps` calls recorded back to back (each in its own
 * scope, so buffers recycle), then one flush + sync.
 */
export const oursBatch = (
  op: Effect.Effect<unknown, GpuError, Gpu | Scope.Scope>,
  run: <A>(program: Effect.Effect<A, GpuError, Gpu>) => Promise<A>,
): Batch =>
(reps) =>
  run(Effect.gen(function* () {
    const gpu = yield* Gpu;
    const start = performance.now();
    for (let i = 0; i < reps; i++) yield* Effect.scoped(op);
    yield* gpu.recorder.sync();
    return (performance.now() - start) / 1000 / reps;
  }));

/** A batch of a TF.js op: `reps` calls, then one readback of the last result. */
const tfBatch = (op: () => tf.Tensor): Batch => async (reps) => {
  const start = performance.now();
  const results: tf.Tensor[] = [];
  for (let i = 0; i < reps; i++) results.push(op());
  await results[reps - 1].data();
  const seconds = (performance.now() - start) / 1000 / reps;
  tf.dispose(results);
  return seconds;
};

/**
 * Seconds per call of each contender: one warm-up call each, a single timed
 * call to size the batches, then batches alternating between contenders so
 * that load from other processes hits both alike; the fastest batch counts
 * (`rounds` batches each, BATCHES by default).
 */
export const timeTogether = async (
  contenders: readonly Batch[],
  rounds = BATCHES,
): Promise<number[]> => {
  const best: number[] = [];
  const reps: number[] = [];
  for (const batch of contenders) {
    await batch(1);
    const single = await batch(1);
    best.push(single);
    reps.push(repsFor(single));
  }
  for (let b = 0; b < rounds; b++) {
    for (const [i, batch] of contenders.entries()) {
      best[i] = Math.min(best[i], await batch(reps[i]));
    }
  }
  return best;
};

/** A case's input, filter, bias and output gradient on the GPU, filled with fixed values. */
export const caseTensors = (
  c: Case,
  g: ConvGeometry,
): Effect.Effect<
  { x: Tensor<"f32">; w: Tensor<"f32">; bias: Tensor<"f32">; dy: Tensor<"f32"> },
  GpuError,
  Gpu | Scope.Scope
> =>
  Effect.gen(function* () {
    const dyShape = [g.batch, g.outH, g.outW, g.outC];
    return {
      x: yield* fromArray(values(g.batch * g.inH * g.inW * g.inC, 1), c.input, "f32"),
      w: yield* fromArray(values(g.kH * g.kW * g.inCg * g.outC, 2), c.filter, "f32"),
      bias: yield* fromArray(values(g.outC, 3), [g.outC], "f32"),
      dy: yield* fromArray(values(dyShape.reduce((a, b) => a * b), 4), dyShape, "f32"),
    };
  });

/** Our three passes of a case, as batches. */
export const oursBatches = (
  c: Case,
  g: ConvGeometry,
  run: <A>(program: Effect.Effect<A, GpuError, Gpu>) => Promise<A>,
): Effect.Effect<Batch[], GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const { x, w, bias, dy } = yield* caseTensors(c, g);
    return [
      oursBatch(conv2dForward(x, w, bias, c.options), run),
      oursBatch(conv2dBackwardInput(dy, w, c.input, c.options), run),
      oursBatch(conv2dBackwardFilter(x, dy, c.filter, c.options), run),
    ];
  });

/** TF.js's three passes of a case, as batches, and a function releasing its tensors. */
const tfjsBatches = (c: Case, g: ConvGeometry): { batches: Batch[]; dispose: () => void } => {
  const x = tf.tensor4d(values(g.batch * g.inH * g.inW * g.inC, 1), [...c.input]);
  const w = tf.tensor4d(values(g.kH * g.kW * g.inCg * g.outC, 2), [...c.filter]);
  const bias = tf.tensor1d(values(g.outC, 3));
  const dyShape: [number, number, number, number] = [g.batch, g.outH, g.outW, g.outC];
  const dy = tf.tensor4d(values(g.batch * g.outH * g.outW * g.outC, 4), dyShape);
  const stride = c.options.stride ?? 1;
  const dilation = (c.options.dilation as number | undefined) ?? 1;
  const pad = c.options.padding ?? 0;
  // TF.js's gradient kernels take no dilation: they run the undilated
  // convolution with the same output size and FLOPs (padding shrunk to match).
  const gradPad = pad - (dilation - 1) * ((g.kH - 1) / 2);
  const engine = tf.engine();
  const common = { strides: stride, pad: gradPad, dataFormat: "NHWC" };
  const batches = [
    tfBatch(() =>
      tf.fused.conv2d({ x, filter: w, bias, strides: stride, pad, dilations: dilation })
    ),
    tfBatch(() =>
      engine.runKernel("Conv2DBackpropInput", { dy, filter: w }, {
        ...common,
        inputShape: [...c.input],
      }) as tf.Tensor
    ),
    tfBatch(() =>
      engine.runKernel("Conv2DBackpropFilter", { x, dy }, {
        ...common,
        filterShape: [...c.filter],
      }) as tf.Tensor
    ),
  ];
  return { batches, dispose: () => tf.dispose([x, w, bias, dy]) };
};

const rate = (flops: number, seconds: number) => (flops / seconds / 1e9).toFixed(2);

/** Prints the conv2d table: ours vs TF.js (unless `peers` is false), GFLOP/s. */
export const benchConv = async (options: { peers?: boolean } = {}): Promise<void> => {
  const peers = options.peers ?? true;
  if (peers) {
    await tf.setBackend("webgpu");
    await tf.ready();
  }
  await runBench(Effect.gen(function* () {
    console.log(`\n## conv2d (NHWC, f32), GFLOP/s, on ${yield* adapterLine}`);
    const rows = [["shape", "ours fwd / dx / dw", "TF.js fwd / dx / dw"]];
    const context = yield* Effect.context<Gpu>();
    const run = <A>(program: Effect.Effect<A, GpuError, Gpu>) =>
      Effect.runPromise(Effect.provide(program, context));
    for (const c of cases) {
      const g = conv2dGeometry(c.input, c.filter, c.options);
      const flops = conv2dFlops(g);
      const mine = yield* oursBatches(c, g, run);
      const peer = peers ? tfjsBatches(c, g) : undefined;
      const seconds = yield* Effect.promise(() =>
        timeTogether([...mine, ...(peer?.batches ?? [])])
      );
      peer?.dispose();
      const theirs = peer ? seconds.slice(3) : undefined;
      const row = [
        c.label,
        seconds.slice(0, 3).map((s) => rate(flops, s)).join(" / "),
        theirs ? theirs.map((s) => rate(flops, s)).join(" / ") : "-",
      ];
      rows.push(row);
      console.log(row.join(" | "));
    }
    console.log();
    console.log(table(rows));
  }));
};

if (import.meta.main) await benchConv({ peers: !Deno.args.includes("--ours-only") });
