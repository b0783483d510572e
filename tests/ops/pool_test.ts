import fc from "fast-check";
import { Effect } from "effect";
import {
  globalAvgPool,
  globalAvgPoolBackward,
  maxPool2d,
  maxPool2dBackward,
  maxPoolBackwardKernel,
  maxPoolKernel,
} from "../../src/ops/pool.ts";
import { Gpu } from "../../src/gpu/device.ts";
import { linearGrid } from "../../src/gpu/kernel.ts";
import {
  globalAvgPoolBackwardReference,
  globalAvgPoolReference,
  maxPoolBackwardReference,
  maxPoolReference,
  poolOutputSize,
} from "../reference/pool.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu, runGpuResult } from "../support/gpu.ts";
import { seededValues } from "../support/arbitrary.ts";

const geometryArb = fc.constantFrom(
  { kernel: 3, stride: 2, padding: 1 },
  { kernel: 3, stride: 1, padding: 1 },
  { kernel: 2, stride: 2, padding: 0 },
  { kernel: 3, stride: 3, padding: 0 },
  { kernel: 5, stride: 2, padding: 2 },
);

const caseArb = fc.record({
  n: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 5, max: 13 }),
  w: fc.integer({ min: 5, max: 11 }),
  c: fc.integer({ min: 1, max: 7 }),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
  // Few distinct integer values make ties in a window common.
  levels: fc.constantFrom(3, 1000),
  geometry: geometryArb,
});

Deno.test({
  name: "max pool forward, argmax and gather backward match the reference (ties: first in window)",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (k) => {
        const shape = [k.n, k.h, k.w, k.c];
        const count = k.n * k.h * k.w * k.c;
        const x = seededValues(count, k.seed).map((v) => Math.round(v * k.levels));
        const ref = maxPoolReference(x, shape, k.geometry);
        const dy = seededValues(ref.y.length, k.seed + 1).map((v) => Math.round(v * 16));
        const got = await runGpu(Effect.gen(function* () {
          const xt = yield* fromArray(x, shape, "f32");
          const { y, argmax } = yield* maxPool2d(xt, k.geometry);
          const dyt = yield* fromArray(dy, y.shape, "f32");
          const dx = yield* maxPool2dBackward(dyt, argmax, shape, k.geometry);
          return {
            shape: y.shape,
            y: yield* download(y),
            argmax: yield* download(argmax),
            dx: yield* download(dx),
          };
        }));
        if (got.shape.join() !== ref.shape.join()) throw new Error(`shape ${got.shape}`);
        assertClose(got.y, ref.y, 0, 0, "y");
        assertClose(got.argmax, ref.argmax, 0, 0, "argmax");
        // Integer gradients: the gathered sums are exact.
        const dxRef = maxPoolBackwardReference(dy, ref.argmax, shape, ref.shape);
        assertClose(got.dx, dxRef, 0, 0, "dx");
      }),
      { seed: 42, numRuns: 20 },
    );
  },
});

Deno.test("max pool reference: ties go to the first pixel, padding never wins", () => {
  const shape = [1, 3, 3, 1];
  const ref = maxPoolReference(new Float64Array(9).fill(-5), shape, {
    kernel: 3,
    stride: 2,
    padding: 1,
  });
  assertClose(ref.y, [-5, -5, -5, -5], 0, 0, "y");
  // Windows start at (-1,-1), (-1,1), (1,-1), (1,1): their first real pixels.
  assertClose(ref.argmax, [0, 1, 3, 4], 0, 0, "argmax");
  if (poolOutputSize(112, { kernel: 3, stride: 2, padding: 1 }) !== 56) throw new Error("size");
});

Deno.test("max pool reference backward satisfies the adjoint identity", () => {
  fc.assert(
    fc.property(caseArb, (k) => {
      const shape = [k.n, k.h, k.w, k.c];
      const x = seededValues(k.n * k.h * k.w * k.c, k.seed);
      const ref = maxPoolReference(x, shape, k.geometry);
      const g = seededValues(ref.y.length, k.seed + 1);
      const v = seededValues(x.length, k.seed + 2);
      // For fixed argmax the pool is linear: y(v)[o] = v[argmax[o]].
      const pick = ref.y.map((_, o) => {
        const b = Math.floor(o / (ref.shape[1] * ref.shape[2] * k.c));
        return v[(b * k.h * k.w + ref.argmax[o]) * k.c + (o % k.c)];
      });
      const lhs = pick.reduce((s, p, o) => s + p * g[o], 0);
      const dx = maxPoolBackwardReference(g, ref.argmax, shape, ref.shape);
      const rhs = dx.reduce((s, d, i) => s + d * v[i], 0);
      return Math.abs(lhs - rhs) <= 1e-9 * (1 + Math.abs(lhs));
    }),
    { seed: 42, numRuns: 30 },
  );
});

Deno.test({
  name: "global average pool and its backward match the reference",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          n: fc.integer({ min: 1, max: 3 }),
          h: fc.integer({ min: 1, max: 17 }),
          w: fc.integer({ min: 1, max: 15 }),
          c: fc.integer({ min: 1, max: 70 }),
          seed: fc.integer({ min: 1, max: 1 << 30 }),
        }),
        async (k) => {
          const shape = [k.n, k.h, k.w, k.c];
          const x = seededValues(k.n * k.h * k.w * k.c, k.seed);
          const dy = seededValues(k.n * k.c, k.seed + 1);
          const got = await runGpu(Effect.gen(function* () {
            const y = yield* globalAvgPool(yield* fromArray(x, shape, "f32"));
            const dx = yield* globalAvgPoolBackward(yield* fromArray(dy, y.shape, "f32"), shape);
            return { shape: y.shape, y: yield* download(y), dx: yield* download(dx) };
          }));
          if (got.shape.join() !== [k.n, 1, 1, k.c].join()) throw new Error(`${got.shape}`);
          assertClose(got.y, globalAvgPoolReference(x, shape), 1e-5, 1e-5, "y");
          assertClose(got.dx, globalAvgPoolBackwardReference(dy, shape), 1e-7, 1e-6, "dx");
          // Adjoint: <pool(x), dy> = <x, pool^T(dy)>.
          const lhs = globalAvgPoolReference(x, shape).reduce((s, v, i) => s + v * dy[i], 0);
          const rhs = globalAvgPoolBackwardReference(dy, shape).reduce(
            (s, v, i) => s + v * x[i],
            0,
          );
          assertClose([lhs], [rhs], 1e-9, 1e-9, "adjoint");
        },
      ),
      { seed: 42, numRuns: 15 },
    );
  },
});

/**
 * One axis smaller than the window, padded so that the window still fits
 * (size + 2 * padding >= kernel, PyTorch's padding <= kernel / 2): every
 * window then holds at most a few real pixels and the rest is padding.
 */
const smallAxisArb = (kernel: number, padding: number) =>
  fc.integer({ min: Math.max(1, kernel - 2 * padding), max: kernel - 1 });

const smallCaseArb = fc.record({
  kernel: fc.integer({ min: 2, max: 5 }),
  stride: fc.constantFrom(1, 1, 2, 3),
  paddingShare: fc.integer({ min: 1, max: 2 }),
  n: fc.integer({ min: 1, max: 2 }),
  c: fc.integer({ min: 1, max: 5 }),
  // The other axis: also smaller than the window, or larger (the stem's 3x3 on a thin input).
  wide: fc.boolean(),
  extraW: fc.integer({ min: 0, max: 9 }),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
  levels: fc.constantFrom(2, 1000),
}).chain((k) => {
  // Padding 1 or 2, at most kernel / 2: without padding no input smaller than the window fits.
  const padding = Math.min(Math.floor(k.kernel / 2), k.paddingShare);
  return fc.record({
    h: smallAxisArb(k.kernel, padding),
    w: k.wide ? fc.constant(k.kernel + k.extraW) : smallAxisArb(k.kernel, padding),
  }).map((hw) => ({ ...k, ...hw, geometry: { kernel: k.kernel, stride: k.stride, padding } }));
});

Deno.test({
  name: "max pool of inputs smaller than the window (padded): forward, argmax, backward",
  ...gpuTestOptions,
  fn: async () => {
    const counts = { runs: 0, onePixel: 0, bothSmall: 0, severalWindows: 0, strideOverInput: 0 };
    await fc.assert(
      fc.asyncProperty(smallCaseArb, async (k) => {
        const shape = [k.n, k.h, k.w, k.c];
        const x = seededValues(k.n * k.h * k.w * k.c, k.seed).map((v) => Math.round(v * k.levels));
        const ref = maxPoolReference(x, shape, k.geometry);
        const dy = seededValues(ref.y.length, k.seed + 1).map((v) => Math.round(v * 16));
        const got = await runGpu(Effect.gen(function* () {
          const { y, argmax } = yield* maxPool2d(yield* fromArray(x, shape, "f32"), k.geometry);
          const dx = yield* maxPool2dBackward(
            yield* fromArray(dy, y.shape, "f32"),
            argmax,
            shape,
            k.geometry,
          );
          return {
            shape: y.shape,
            y: yield* download(y),
            argmax: yield* download(argmax),
            dx: yield* download(dx),
          };
        }));
        if (got.shape.join() !== ref.shape.join()) throw new Error(`shape ${got.shape}`);
        // Padding never wins: every output took a real pixel.
        if (ref.argmax.some((a) => a < 0)) throw new Error("a window of padding only");
        assertClose(got.y, ref.y, 0, 0, "y");
        assertClose(got.argmax, ref.argmax, 0, 0, "argmax");
        assertClose(got.dx, maxPoolBackwardReference(dy, ref.argmax, shape, ref.shape), 0, 0, "dx");
        counts.runs++;
        if (k.h === 1) counts.onePixel++;
        if (k.w < k.kernel) counts.bothSmall++;
        if (ref.shape[1] > 1) counts.severalWindows++;
        if (k.stride > k.h) counts.strideOverInput++;
      }),
      { seed: 42, numRuns: 40 },
    );
    // Each kind of small input was compared, not only generated.
    if (counts.runs !== 40) throw new Error(`${counts.runs} of 40 runs compared`);
    for (const [kind, count] of Object.entries(counts)) {
      if (count < 5) throw new Error(`only ${count} runs of ${kind}: ${JSON.stringify(counts)}`);
    }
  },
});

Deno.test({
  name: "max pool refuses, with the reason, a window past the padded input and invalid geometry",
  ...gpuTestOptions,
  fn: async () => {
    const cases: {
      shape: number[];
      geometry: { kernel: number; stride: number; padding: number };
      says: string;
    }[] = [
      // The padded input is one pixel short of the window (in H, then in W only).
      {
        shape: [1, 1, 5, 2],
        geometry: { kernel: 4, stride: 1, padding: 1 },
        says: "exceeds the padded input",
      },
      {
        shape: [1, 5, 2, 2],
        geometry: { kernel: 5, stride: 2, padding: 1 },
        says: "exceeds the padded input",
      },
      {
        shape: [2, 2, 2, 1],
        geometry: { kernel: 3, stride: 1, padding: 0 },
        says: "exceeds the padded input",
      },
      // PyTorch's rule: padding at most half the window (else a window could be padding only).
      {
        shape: [1, 4, 4, 1],
        geometry: { kernel: 3, stride: 1, padding: 2 },
        says: "invalid geometry",
      },
      {
        shape: [1, 4, 4, 1],
        geometry: { kernel: 0, stride: 1, padding: 0 },
        says: "invalid geometry",
      },
      {
        shape: [1, 4, 4, 1],
        geometry: { kernel: 2, stride: 0, padding: 0 },
        says: "invalid geometry",
      },
      {
        shape: [1, 4, 4, 1],
        geometry: { kernel: 2, stride: 1, padding: -1 },
        says: "invalid geometry",
      },
      // Fractional sizes would be truncated by the kernel's u32 parameters.
      {
        shape: [1, 4, 4, 1],
        geometry: { kernel: 2.5, stride: 1, padding: 0 },
        says: "invalid geometry",
      },
      {
        shape: [1, 4, 4, 1],
        geometry: { kernel: 3, stride: 1.5, padding: 1 },
        says: "invalid geometry",
      },
      {
        shape: [1, 4, 4, 1],
        geometry: { kernel: 3, stride: 1, padding: 0.5 },
        says: "invalid geometry",
      },
      { shape: [4, 4, 1], geometry: { kernel: 2, stride: 1, padding: 0 }, says: "expects NHWC" },
    ];
    for (const { shape, geometry, says } of cases) {
      const label = `[${shape}] ${JSON.stringify(geometry)}`;
      const forward = await runGpuResult(Effect.gen(function* () {
        const x = yield* fromArray(new Float32Array(shape.reduce((a, b) => a * b)), shape, "f32");
        return yield* maxPool2d(x, geometry);
      }));
      const backward = await runGpuResult(Effect.gen(function* () {
        const dy = yield* fromArray([0], [1, 1, 1, 1], "f32");
        const argmax = yield* fromArray([0], [1, 1, 1, 1], "i32");
        return yield* maxPool2dBackward(dy, argmax, shape, geometry);
      }));
      for (const [pass, result] of [["forward", forward], ["backward", backward]] as const) {
        if (result._tag !== "Failure" || result.failure._tag !== "BindingError") {
          throw new Error(`${pass} ${label}: expected a BindingError, got ${result._tag}`);
        }
        if (!result.failure.reason.includes(says)) {
          throw new Error(`${pass} ${label}: "${result.failure.reason}" lacks "${says}"`);
        }
      }
    }
  },
});

Deno.test({
  name: "max pool kernels give the same values on a folded 2-D grid, past its last full row",
  ...gpuTestOptions,
  fn: async () => {
    // Past 65535 groups of 128 a grid folds into rows (the backward, one invocation per input,
    // from 8.4M inputs: 8x256x256x64 at a 512 crop). Folding here at a few groups per row keeps
    // it small; each kernel must cover its partial last group and skip the surplus groups.
    const geometry = { kernel: 3, stride: 2, padding: 1 };
    const shape = [2, 9, 11, 9];
    const inputs = shape.reduce((a, b) => a * b);
    const ref = maxPoolReference(new Float32Array(inputs), shape, geometry);
    const outputs = ref.y.length;
    // The narrowest rows that leave surplus groups past a partial last group.
    const fold = <K>(kernel: K, count: number): K => {
      const groups = Math.ceil(count / 128);
      for (let perRow = 2; perRow < groups; perRow++) {
        const grid = linearGrid(count, 128, perRow);
        if (grid[1] >= 2 && count % 128 !== 0 && grid[0] * grid[1] > groups) {
          return { ...kernel, dispatch: () => grid };
        }
      }
      throw new Error(`no folded grid straddles ${count} invocations`);
    };
    const forwardFolded = fold(maxPoolKernel, outputs);
    const backwardFolded = fold(maxPoolBackwardKernel, inputs);
    const x = seededValues(inputs, 31).map((v) => Math.round(v * 50));
    const dy = seededValues(outputs, 32).map((v) => Math.round(v * 16));
    const params = {
      batch: shape[0],
      in_h: shape[1],
      in_w: shape[2],
      channels: shape[3],
      out_h: ref.shape[1],
      out_w: ref.shape[2],
      ...geometry,
    };
    const got = await runGpu(Effect.gen(function* () {
      const gpu = yield* Gpu;
      const xt = yield* fromArray(x, shape, "f32");
      const dyt = yield* fromArray(dy, ref.shape, "f32");
      // Outputs start as NaN (argmax as -2): an element a grid misses keeps it.
      const nans = (dims: readonly number[]) =>
        fromArray(new Float32Array(dims.reduce((a, d) => a * d)).fill(NaN), dims, "f32");
      const unset = () => fromArray(new Int32Array(outputs).fill(-2), ref.shape, "i32");
      const [yA, yB, aA, aB] = [
        yield* nans(ref.shape),
        yield* nans(ref.shape),
        yield* unset(),
        yield* unset(),
      ];
      yield* gpu.recorder.dispatch(maxPoolKernel, { x: xt, y: yA, argmax: aA }, params);
      yield* gpu.recorder.dispatch(forwardFolded, { x: xt, y: yB, argmax: aB }, params);
      const [dxA, dxB] = [yield* nans(shape), yield* nans(shape)];
      yield* gpu.recorder.dispatch(maxPoolBackwardKernel, { dy: dyt, argmax: aA, dx: dxA }, params);
      yield* gpu.recorder.dispatch(backwardFolded, { dy: dyt, argmax: aA, dx: dxB }, params);
      return {
        y: [yield* download(yA), yield* download(yB)],
        argmax: [yield* download(aA), yield* download(aB)],
        dx: [yield* download(dxA), yield* download(dxB)],
      };
    }));
    for (const [name, [plain, folded]] of Object.entries(got)) {
      const unset = (v: number) => name === "argmax" ? v === -2 : Number.isNaN(v);
      const missed = Array.from(plain as ArrayLike<number>).findIndex(unset);
      if (missed >= 0) throw new Error(`${name}: the plain grid left element ${missed} unset`);
      assertClose(folded, plain, 0, 0, `${name} on the folded grid`);
    }
  },
});
