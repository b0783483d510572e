/**
 * The throughput ratios the bench judges, measured interleaved on one adapter:
 * matmul 1024^3 against the conv2d forward of each shape of bench/conv.ts, and
 * each shape's filter gradient against its forward. Each round times, per
 * shape, a batch of the matmul, one of the forward and one of the filter
 * gradient back to back, and takes the ratios within that triple; the median
 * over rounds is printed. A host whose speed drifts over seconds to minutes
 * (ours move by 2x) then moves both sides of a ratio alike, which the separate
 * matmul and conv tables, minutes apart, do not.
 * `deno run -A bench/ratios.ts [--rounds N]`.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { parseArgs } from "node:util";
import type { Gpu } from "../src/gpu/device.ts";
import type { GpuError } from "../src/gpu/errors.ts";
import { matmulInto } from "../src/ops/matmul.ts";
import {
  conv2dBackwardFilter,
  conv2dFlops,
  conv2dForward,
  conv2dGeometry,
} from "../src/ops/conv.ts";
import type { ConvGeometry } from "../src/ops/conv_geometry.ts";
import { fromArray } from "../src/tensor/tensor.ts";
import { type Batch, type Case, cases, caseTensors, oursBatch, values } from "./conv.ts";
import { adapterLine, runBench, table } from "./support.ts";

/** Rounds by default (a round is one triple per shape, about 3 s). */
export const RATIO_ROUNDS = 7;

/** Seconds a timed batch aims for. */
const BATCH_SECONDS = 0.2;

const MATMUL_SIZE = 1024;

/** What {@link benchRatios} measured: medians over rounds. */
export interface Ratios {
  /** matmul 1024^3 GFLOP/s. */
  readonly matmul: number;
  /** Per shape of bench/conv.ts: GFLOP/s and the ratios within a round's triple. */
  readonly shapes: readonly {
    label: string;
    forward: number;
    filter: number;
    /** The forward's share of its nominal multiply-adds that its kernel does ({@link forwardRowsDone}). */
    done: number;
    matmulOverForward: number;
    /** matmul GFLOP/s over the forward's rate of multiply-adds done. */
    matmulOverDone: number;
    filterOverForward: number;
  }[];
}

/**
 * The share of a forward's nominal multiply-adds that its kernel does: a block
 * of destination pixels in one row skips each tap row whose source row is
 * padding (`sourceRow` in shaders/conv/taps.wgsl), so a padded convolution does
 * fewer than the 2 x outputs x taps x Cin that its GFLOP/s (like PyTorch's and
 * TF.js's) counts. Holds for the bench's shapes, whose output rows are at
 * least 8 pixels wide (narrower ones pair two rows and skip a tap row only when
 * both read padding).
 */
export const forwardRowsDone = (g: ConvGeometry): number => {
  let read = 0;
  for (let h = 0; h < g.outH; h++) {
    for (let t = 0; t < g.kH; t++) {
      const r = h * g.strideH + t * g.dilH - g.padH;
      if (r >= 0 && r < g.inH) read++;
    }
  }
  return read / (g.outH * g.kH);
};

const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Repetitions so that a batch lasts about BATCH_SECONDS (after a warm-up call). */
const sized = async (batch: Batch): Promise<number> => {
  await batch(1);
  const single = await batch(1);
  return Math.max(1, Math.min(50, Math.round(BATCH_SECONDS / single)));
};

/**
 * The measured check of {@link forwardRowsDone}: each bench shape whose
 * forward skips more than 5 % of its tap rows is timed beside its unpadded
 * twin (the input grown by the padding, padding 0: the same output and
 * nominal multiply-adds, none skipped), the 1024^3 matmul and a matmul of
 * the forward's own GEMM shape, interleaved; prints their GFLOP/s and ratios.
 */
const unpaddedTwins = (
  matmul: Batch,
  matmulFlops: number,
  triples: readonly Triple[],
  run: <A>(program: Effect.Effect<A, GpuError, Gpu>) => Promise<A>,
  rounds: number,
): Effect.Effect<void, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    for (const { shape, g, flops, done, forward } of triples) {
      if (done > 0.95) continue;
      const [batch, h, w, c] = shape.input;
      const twin: Case = {
        label: `${shape.label} unpadded`,
        input: [batch, h + 2 * g.padH, w + 2 * g.padW, c] as const,
        filter: shape.filter,
        options: { ...shape.options, padding: 0 },
      };
      const tg = conv2dGeometry(twin.input, twin.filter, twin.options);
      const plain = yield* caseTensors(twin, tg);
      const twinForward = oursBatch(conv2dForward(plain.x, plain.w, plain.bias, twin.options), run);
      // The forward as a matrix product: pixels x output channels, over taps x input channels.
      const gemm = { m: g.batch * g.outH * g.outW, n: g.outC, k: g.kH * g.kW * g.inC };
      const ga = yield* fromArray(values(gemm.m * gemm.k, 1), [gemm.m, gemm.k], "f32");
      const gb = yield* fromArray(values(gemm.k * gemm.n, 2), [gemm.k, gemm.n], "f32");
      const gc = yield* fromArray(values(gemm.m * gemm.n, 3), [gemm.m, gemm.n], "f32");
      const gemmBatch = oursBatch(matmulInto(ga, gb, gc, gemm), run);
      const line = yield* Effect.promise(async () => {
        // GFLOP/s of each batch, a row per round: matmul, forward, twin, GEMM-shaped matmul.
        const timed = [
          { batch: matmul, flops: matmulFlops },
          { batch: forward, flops },
          { batch: twinForward, flops: conv2dFlops(tg) },
          { batch: gemmBatch, flops: 2 * gemm.m * gemm.n * gemm.k },
        ];
        const reps: number[] = [];
        for (const t of timed) reps.push(await sized(t.batch));
        const rows: number[][] = [];
        for (let r = 0; r < rounds; r++) {
          const row: number[] = [];
          for (const [i, t] of timed.entries()) row.push(t.flops / await t.batch(reps[i]) / 1e9);
          rows.push(row);
        }
        const of = (i: number) => median(rows.map((row) => row[i])).toFixed(2);
        const overTwin = (i: number) => median(rows.map((row) => row[i] / row[2])).toFixed(2);
        return `${shape.label}: fwd ${of(1)} GFLOP/s, its unpadded twin ` +
          `(${twin.input.join("x")}, the same multiply-adds, none skipped) ${of(2)}; ` +
          `matmul ${MATMUL_SIZE}^3 / twin ${overTwin(0)}; matmul at the forward's GEMM shape ` +
          `(${gemm.m}x${gemm.n}x${gemm.k}) ${of(3)}, / twin ${overTwin(3)}`;
      });
      console.log(line);
    }
  });

/** One bench shape's geometry and its timed forward and filter-gradient batches. */
interface Triple {
  readonly shape: Case;
  readonly g: ConvGeometry;
  readonly label: string;
  readonly flops: number;
  /** {@link forwardRowsDone} of the shape. */
  readonly done: number;
  readonly forward: Batch;
  readonly filter: Batch;
}

/** Prints the interleaved ratios; returns them. */
export const benchRatios = (rounds = RATIO_ROUNDS): Promise<Ratios> =>
  runBench(Effect.gen(function* () {
    console.log(
      `\n## Ratios, interleaved (median of ${rounds} rounds) on ${yield* adapterLine}`,
    );
    const context = yield* Effect.context<Gpu>();
    const run = <A>(program: Effect.Effect<A, GpuError, Gpu>) =>
      Effect.runPromise(Effect.provide(program, context));
    const n = MATMUL_SIZE;
    const a = yield* fromArray(values(n * n, 1), [n, n], "f32");
    const b = yield* fromArray(values(n * n, 2), [n, n], "f32");
    const c = yield* fromArray(values(n * n, 3), [n, n], "f32");
    const matmulFlops = 2 * n ** 3;
    const matmul = oursBatch(matmulInto(a, b, c, { m: n, n, k: n }), run);
    const triples: Triple[] = [];
    for (const shape of cases) {
      const g = conv2dGeometry(shape.input, shape.filter, shape.options);
      const { x, w, bias, dy } = yield* caseTensors(shape, g);
      triples.push({
        shape,
        g,
        label: shape.label,
        flops: conv2dFlops(g),
        done: forwardRowsDone(g),
        forward: oursBatch(conv2dForward(x, w, bias, shape.options), run),
        filter: oursBatch(conv2dBackwardFilter(x, dy, shape.filter, shape.options), run),
      });
    }
    const measured = yield* Effect.promise(async () => {
      const matmulReps = await sized(matmul);
      const reps = [];
      for (const t of triples) reps.push([await sized(t.forward), await sized(t.filter)]);
      const perShape = triples.map(() => ({
        matmul: [] as number[],
        forward: [] as number[],
        filter: [] as number[],
      }));
      for (let r = 0; r < rounds; r++) {
        for (const [i, t] of triples.entries()) {
          perShape[i].matmul.push(matmulFlops / await matmul(matmulReps) / 1e9);
          perShape[i].forward.push(t.flops / await t.forward(reps[i][0]) / 1e9);
          perShape[i].filter.push(t.flops / await t.filter(reps[i][1]) / 1e9);
        }
      }
      return perShape;
    });
    const shapes = triples.map((t, i) => {
      const m = measured[i];
      return {
        label: t.label,
        forward: median(m.forward),
        filter: median(m.filter),
        done: t.done,
        matmulOverForward: median(m.matmul.map((v, r) => v / m.forward[r])),
        matmulOverDone: median(m.matmul.map((v, r) => v / (m.forward[r] * t.done))),
        filterOverForward: median(m.filter.map((v, r) => v / m.forward[r])),
      };
    });
    const result: Ratios = { matmul: median(measured.flatMap((m) => m.matmul)), shapes };
    console.log(`matmul ${n}^3: ${result.matmul.toFixed(2)} GFLOP/s (median of every batch)`);
    console.log(table([
      [
        "conv shape",
        "fwd GFLOP/s",
        "dw GFLOP/s",
        "dw / fwd",
        `matmul ${n}^3 / fwd`,
        "fwd rows done",
        "matmul / fwd done",
      ],
      ...shapes.map((s) => [
        s.label,
        s.forward.toFixed(2),
        s.filter.toFixed(2),
        s.filterOverForward.toFixed(2),
        s.matmulOverForward.toFixed(2),
        `${(100 * s.done).toFixed(1)} %`,
        s.matmulOverDone.toFixed(2),
      ]),
    ]));
    yield* unpaddedTwins(matmul, matmulFlops, triples, run, rounds);
    const worst = (key: "matmulOverForward" | "matmulOverDone" | "filterOverForward") =>
      Math.min(...shapes.map((s) => s[key])).toFixed(2);
    console.log(
      `lowest over the shapes: matmul / fwd ${worst("matmulOverForward")}, ` +
        `dw / fwd ${worst("filterOverForward")}; matmul / fwd per multiply-add done ` +
        worst("matmulOverDone"),
    );
    return result;
  }));

if (import.meta.main) {
  const { values: flags } = parseArgs({ args: Deno.args, options: { rounds: { type: "string" } } });
  await benchRatios(flags.rounds === undefined ? RATIO_ROUNDS : Number(flags.rounds));
}
