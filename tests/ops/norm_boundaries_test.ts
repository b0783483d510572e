// Batch norm on both sides of every chunk, workgroup and one-pass boundary, and on folded grids.
import { Effect } from "effect";
import {
  batchNorm,
  batchNormBackward,
  type BatchNormMode,
  batchNormStats,
  chunkRowsFor,
  setSinglePassRows,
  SINGLE_PASS_ROWS,
} from "../../src/ops/norm.ts";
import {
  backwardFinalizeKernel,
  backwardInputKernel,
  backwardPartialsKernel,
  chunkStatsKernel,
  normalizeKernel,
} from "../../src/ops/norm_kernels.ts";
import { Gpu } from "../../src/gpu/device.ts";
import {
  batchNormBackwardReference,
  batchNormTrainReference,
  evalStatsReference,
  normalizeReference,
} from "../reference/norm.ts";
import { linearGrid } from "../../src/gpu/kernel.ts";
import { download, empty, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { seededValues } from "../support/arbitrary.ts";

/**
 * The chunking's thresholds, read off `chunkRowsFor` rather than assumed: the
 * fewest rows per chunk, and the most chunks (past which chunks grow).
 */
const chunkLimits = () => {
  const minRows = chunkRowsFor(2);
  let lo = 2;
  let hi = 1 << 30;
  while (lo + 1 < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (chunkRowsFor(mid) > minRows) hi = mid;
    else lo = mid;
  }
  // `lo` is the most rows chunks of `minRows` rows cover: lo / minRows chunks of them at most.
  return { minRows, maxChunks: Math.ceil(lo / minRows), grows: hi };
};

/** Chunking of `rows` as the op computes it. */
const chunksOf = (rows: number) => {
  const chunkRows = chunkRowsFor(rows);
  const chunks = Math.ceil(rows / chunkRows);
  return { chunkRows, chunks, last: rows - (chunks - 1) * chunkRows };
};

/** Per-channel |terms| of the reference's sums, for tolerances that scale with the reduction. */
const channelMass = (values: ArrayLike<number>, channels: number) => {
  const mass = new Float64Array(channels);
  for (let i = 0; i < values.length; i++) mass[i % channels] += Math.abs(values[i]);
  return mass;
};

/** Throws unless |actual - expected| <= tol(i) everywhere. */
const assertWithin = (
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: (i: number) => number,
  label: string,
) => {
  if (actual.length !== expected.length) {
    throw new Error(`${label}: ${actual.length} values, expected ${expected.length}`);
  }
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= tol(i))) {
      throw new Error(`${label}[${i}]: ${actual[i]} vs ${expected[i]} (tolerance ${tol(i)})`);
    }
  }
};

/** Training forward, then the backward in `mode`, on one shape; checked against the float64 reference. */
const checkForwardBackward = async (shape: number[], mode: BatchNormMode, seed: number) => {
  const c = shape[3];
  const count = shape.reduce((a, b) => a * b);
  const rows = count / c;
  // Mean 3 against spread 2: the chunk merge must not lose the variance.
  const x = seededValues(count, seed, 2).map((v) => v + 3);
  const dy = seededValues(count, seed + 5);
  const weight = seededValues(c, seed + 1, 1.5);
  const bias = seededValues(c, seed + 2);
  const runningMean = seededValues(c, seed + 3);
  const runningVar = seededValues(c, seed + 4).map((v) => 0.5 + Math.abs(v));
  const got = await runGpu(Effect.gen(function* () {
    const xt = yield* fromArray(x, shape, "f32");
    const state = {
      weight: yield* fromArray(weight, [c], "f32"),
      bias: yield* fromArray(bias, [c], "f32"),
      runningMean: yield* fromArray(runningMean, [c], "f32"),
      runningVar: yield* fromArray(runningVar, [c], "f32"),
    };
    const { y, stats } = yield* batchNorm(xt, state, { mode });
    const g = yield* batchNormBackward(
      xt,
      yield* fromArray(dy, shape, "f32"),
      stats,
      state.weight,
      mode,
    );
    return {
      y: yield* download(y),
      stats: yield* download(stats),
      runningMean: yield* download(state.runningMean),
      runningVar: yield* download(state.runningVar),
      dx: yield* download(g.dx),
      dWeight: yield* download(g.dWeight),
      dBias: yield* download(g.dBias),
    };
  }));
  const label = `[${shape}] ${mode}`;
  const trained = batchNormTrainReference(x, weight, bias, runningMean, runningVar);
  const stats = mode === "train" ? trained : evalStatsReference(runningMean, runningVar);
  const y = normalizeReference(x, stats, weight, bias);
  assertWithin(got.y, y, (i) => 1e-4 + 1e-4 * Math.abs(y[i]), `${label} y`);
  assertWithin(
    got.stats.subarray(0, c),
    stats.mean,
    (i) => 2e-6 * (1 + Math.abs(stats.mean[i])),
    `${label} mean`,
  );
  assertWithin(
    got.stats.subarray(c),
    stats.invStd,
    (i) => 2e-5 * stats.invStd[i],
    `${label} invStd`,
  );
  const expectMean = mode === "train" ? trained.runningMean : runningMean;
  const expectVar = mode === "train" ? trained.runningVar : runningVar;
  assertWithin(
    got.runningMean,
    expectMean,
    (i) => 1e-6 * (1 + Math.abs(expectMean[i])),
    `${label} running mean`,
  );
  assertWithin(got.runningVar, expectVar, (i) => 1e-5 * expectVar[i], `${label} running var`);
  const ref = batchNormBackwardReference(x, dy, stats, weight, mode === "train");
  // Sums over the rows: f32 rounding grows with the reduction's |terms|, a lost row does not hide in it.
  const dyMass = channelMass(dy, c);
  const xhatDy = Float64Array.from(
    dy,
    (v, i) => v * (x[i] - stats.mean[i % c]) * stats.invStd[i % c],
  );
  const xhatDyMass = channelMass(xhatDy, c);
  assertWithin(got.dBias, ref.dBias, (i) => 2e-6 * dyMass[i], `${label} dBias`);
  assertWithin(got.dWeight, ref.dWeight, (i) => 2e-6 * xhatDyMass[i], `${label} dWeight`);
  const dxScale = Math.max(...weight.map((w, i) => Math.abs(w) * stats.invStd[i]));
  assertWithin(got.dx, ref.dx, (i) => 1e-5 * dxScale + 1e-4 * Math.abs(ref.dx[i]), `${label} dx`);
  return { rows, ...chunksOf(rows) };
};

Deno.test({
  name: "batch norm forward and backward on both sides of every chunk and workgroup boundary",
  ...gpuTestOptions,
  fn: async () => {
    const { minRows, maxChunks, grows } = chunkLimits();
    const most = minRows * maxChunks; // the most rows chunks of `minRows` cover
    // Rows for [1, rows, 1, C] or a given NHWC shape; channels around the 64-wide finalize workgroups.
    const cases: { shape: number[]; mode: BatchNormMode }[] = [
      { shape: [1, 2, 1, 3], mode: "train" }, // the fewest rows training takes
      { shape: [1, minRows - 1, 1, 63], mode: "train" }, // one partial chunk
      { shape: [1, minRows, 1, 64], mode: "eval" }, // one full chunk
      { shape: [1, minRows + 1, 1, 65], mode: "train" }, // a second chunk of one row
      { shape: [1, minRows + 1, 1, 32], mode: "train" }, // chunks * channels = 64 invocations
      { shape: [1, minRows + 1, 1, 33], mode: "eval" }, // 66 invocations
      { shape: [1, 128, 1, 2], mode: "train" }, // 256 elements: one elementwise workgroup
      { shape: [1, 257, 1, 1], mode: "train" }, // 257 elements
      { shape: [1, most - 2, 1, 3], mode: "train" }, // the last chunk short by two rows
      { shape: [1, most, 1, 5], mode: "train" }, // the most chunks of the fewest rows
      { shape: [1, grows, 1, 5], mode: "train" }, // chunks grow by a row; a short last chunk
      { shape: [1, grows, 1, 2], mode: "eval" },
      { shape: [8, 128, 128, 2], mode: "train" }, // real training: 8x128x128
      { shape: [8, 128, 128, 1], mode: "eval" },
      { shape: [3, 43691, 1, 2], mode: "train" }, // 8x128x128 + 1 rows: the last chunk partial
    ];
    // A chunk longer than the fewest rows with a last chunk of one row.
    const oneRowLast = (() => {
      for (let rows = grows;; rows++) if (chunksOf(rows).last === 1) return rows;
    })();
    cases.push({ shape: [1, oneRowLast, 1, 3], mode: "train" });
    const seen: Awaited<ReturnType<typeof checkForwardBackward>>[] = [];
    // Every case chunked (the one-pass kernels off), then as the op picks.
    const single = setSinglePassRows(0);
    try {
      for (const [i, k] of cases.entries()) {
        seen.push(await checkForwardBackward(k.shape, k.mode, 100 + i));
      }
    } finally {
      setSinglePassRows(single);
    }
    // Both sides of the one-pass limit, and the small cases in one pass.
    cases.push({ shape: [1, SINGLE_PASS_ROWS, 1, 3], mode: "train" });
    cases.push({ shape: [1, SINGLE_PASS_ROWS + 1, 1, 65], mode: "train" });
    for (const [i, k] of cases.entries()) await checkForwardBackward(k.shape, k.mode, 300 + i);
    // The shapes straddle every boundary of the chunking (whatever its constants).
    const has = (what: string, test: (s: (typeof seen)[number]) => boolean) => {
      if (!seen.some(test)) throw new Error(`no case has ${what}: ${JSON.stringify(seen)}`);
    };
    has("one partial chunk", (s) => s.chunks === 1 && s.last < s.chunkRows);
    has("one full chunk", (s) => s.chunks === 1 && s.last === s.chunkRows);
    has("a last chunk of one row", (s) => s.chunks > 1 && s.last === 1 && s.chunkRows === minRows);
    has("the most chunks, all full", (s) => s.chunks === maxChunks && s.last === s.chunkRows);
    has("chunks past the fewest rows", (s) => s.chunkRows > minRows);
    has("longer chunks, a one-row last chunk", (s) => s.chunkRows > minRows && s.last === 1);
    has("longer chunks, all full", (s) => s.chunkRows > minRows && s.last === s.chunkRows);
    has("longer chunks, a partial last one", (s) => s.chunkRows > minRows && s.last < s.chunkRows);
  },
});

/** `kernel` dispatched on a grid folded into rows of at most `maxPerDim` groups of `perGroup`. */
const folded = <K>(kernel: K, count: number, perGroup: number, maxPerDim: number): K => {
  const grid = linearGrid(count, perGroup, maxPerDim);
  // A second row of groups, a partial last group, and surplus groups past the work.
  if (grid[1] < 2 || count % perGroup === 0 || grid[0] * grid[1] <= Math.ceil(count / perGroup)) {
    throw new Error(`grid [${grid}] does not straddle ${count} invocations of ${perGroup}`);
  }
  return { ...kernel, dispatch: () => grid };
};

Deno.test({
  name: "batch norm kernels give the same values on a folded 2-D grid, past its last full row",
  ...gpuTestOptions,
  fn: async () => {
    // Past 65535 groups a grid folds into rows (normalize and dx fold from 65535 * 256 elements,
    // 16.8M: 8x128x128x128). Folding here at a few groups per row keeps the case small: every
    // linear-grid kernel must then cover its partial last group and skip the surplus groups.
    const [rows, c] = [281, 30];
    const shape = [1, rows, 1, c];
    const n = rows * c;
    const chunkRows = chunkRowsFor(rows);
    const p = { rows, channels: c, chunk_rows: chunkRows, chunks: Math.ceil(rows / chunkRows) };
    const chunkStatsFolded = folded(chunkStatsKernel, p.chunks * c, 64, 2);
    const partialsFolded = folded(backwardPartialsKernel, p.chunks * c, 64, 2);
    const normalizeFolded = folded(normalizeKernel, n, 256, 4);
    const inputFolded = folded(backwardInputKernel, n, 256, 4);
    const x = seededValues(n, 21, 2).map((v) => v + 3);
    const dy = seededValues(n, 22);
    const weight = seededValues(c, 23, 1.5);
    const got = await runGpu(Effect.gen(function* () {
      const gpu = yield* Gpu;
      const xt = yield* fromArray(x, shape, "f32");
      const dyt = yield* fromArray(dy, shape, "f32");
      const w = yield* fromArray(weight, [c], "f32");
      const b = yield* fromArray(seededValues(c, 24), [c], "f32");
      const state = {
        weight: w,
        bias: b,
        runningMean: yield* fromArray(new Float32Array(c), [c], "f32"),
        runningVar: yield* fromArray(new Float32Array(c).fill(1), [c], "f32"),
      };
      const stats = yield* batchNormStats(xt, state, { mode: "train" });
      // Outputs start as NaN: an element a grid misses stays NaN.
      const nans = (dims: number[]) =>
        fromArray(new Float32Array(dims.reduce((a, d) => a * d)).fill(NaN), dims, "f32");
      const pair = (dims: number[]) => Effect.all([nans(dims), nans(dims)]);
      const d = gpu.recorder;
      const [statsA, statsB] = yield* pair([2 * p.chunks * c]);
      yield* d.dispatch(chunkStatsKernel, { x: xt, partial: statsA }, p);
      yield* d.dispatch(chunkStatsFolded, { x: xt, partial: statsB }, p);
      const [partA, partB] = yield* pair([2 * p.chunks * c]);
      // The fused-ReLU variants, masked by dy's own signs (any tensor serves as the mask).
      const relu = { RELU: 1 };
      const partials = { x: xt, dy: dyt, y: dyt, stats };
      yield* d.dispatch(backwardPartialsKernel, { ...partials, partial: partA }, p, relu);
      yield* d.dispatch(partialsFolded, { ...partials, partial: partB }, p, relu);
      const [yA, yB] = yield* pair(shape);
      const elementwise = { n, channels: c };
      const affine = { x: xt, stats, weight: w, bias: b };
      yield* d.dispatch(normalizeKernel, { ...affine, y: yA }, elementwise, relu);
      yield* d.dispatch(normalizeFolded, { ...affine, y: yB }, elementwise, relu);
      // dx's coefficients from the unfolded partials.
      const coef = yield* empty([3, c], "f32");
      const grads = { grad_weight: yield* empty([c], "f32"), grad_bias: yield* empty([c], "f32") };
      yield* d.dispatch(
        backwardFinalizeKernel,
        { partial: partA, stats, weight: w, ...grads, coef },
        p,
        { TRAIN: 1, ACCUMULATE: 0 },
      );
      const [dxA, dxB] = yield* pair(shape);
      const input = { x: xt, dy: dyt, y: dyt, stats, coef };
      yield* d.dispatch(backwardInputKernel, { ...input, dx: dxA }, elementwise, relu);
      yield* d.dispatch(inputFolded, { ...input, dx: dxB }, elementwise, relu);
      return yield* Effect.all([statsA, statsB, partA, partB, yA, yB, dxA, dxB].map(download));
    }));
    for (const [i, name] of ["chunk stats", "backward partials", "normalize", "dx"].entries()) {
      const [plain, fold] = [got[2 * i], got[2 * i + 1]];
      const missed = plain.findIndex((v) => Number.isNaN(v));
      if (missed >= 0) throw new Error(`${name}: the plain grid left element ${missed} unwritten`);
      assertClose(fold, plain, 0, 0, `${name} on the folded grid`);
    }
  },
});
