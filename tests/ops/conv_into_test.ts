import { Effect } from "effect";
import {
  conv2dBackwardBias,
  conv2dBackwardFilter,
  conv2dGeometry,
  type Conv2dOptions,
  convPath,
  filterTiling,
} from "../../src/ops/conv.ts";
import { Gpu } from "../../src/gpu/device.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu, runGpuResult } from "../support/gpu.ts";
import { seededValues } from "../support/arbitrary.ts";

interface Case {
  readonly input: readonly number[];
  readonly filter: readonly number[];
  readonly options: Conv2dOptions;
}

// One output row (a single split: the filter kernel itself adds into `into`)
// and many rows (split-K: the reduction pass adds), on each kernel of the
// menu: vec4 (8- and 16-channel tiles), out4 (an RGB stem), general (odd channels), depthwise,
// pointwise, grouped.
const cases: readonly Case[] = [
  { input: [1, 1, 16, 8], filter: [1, 3, 8, 8], options: { padding: [0, 1] } },
  { input: [1, 1, 16, 8], filter: [1, 3, 8, 32], options: { padding: [0, 1] } },
  { input: [2, 9, 10, 8], filter: [3, 3, 8, 48], options: { padding: 1, stride: 2 } },
  { input: [1, 1, 9, 5], filter: [1, 3, 5, 3], options: { padding: [0, 1] } },
  { input: [1, 1, 12, 8], filter: [1, 3, 1, 8], options: { padding: [0, 1], groups: 8 } },
  { input: [1, 1, 10, 12], filter: [1, 1, 12, 20], options: {} },
  { input: [2, 9, 10, 8], filter: [3, 3, 8, 12], options: { padding: 1, stride: 2 } },
  { input: [2, 8, 8, 5], filter: [1, 1, 5, 7], options: {} },
  { input: [2, 9, 16, 16], filter: [3, 3, 1, 16], options: { padding: 1, groups: 16 } },
  { input: [2, 9, 13, 9], filter: [3, 3, 3, 15], options: { padding: 1, stride: 2, groups: 3 } },
  { input: [2, 9, 10, 3], filter: [3, 3, 3, 16], options: { padding: 1, stride: 2 } },
  { input: [1, 1, 12, 3], filter: [1, 3, 3, 8], options: { padding: [0, 1] } },
];

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Asserts got === fround(before + fresh) bit for bit. */
const assertAdded = (
  got: ArrayLike<number>,
  before: ArrayLike<number>,
  fresh: ArrayLike<number>,
  label: string,
) => {
  if (got.length !== fresh.length) throw new Error(`${label}: length ${got.length}`);
  for (let i = 0; i < got.length; i++) {
    const want = Math.fround(before[i] + fresh[i]);
    if (!Object.is(got[i], want)) {
      throw new Error(`${label}: [${i}] ${got[i]} != ${before[i]} + ${fresh[i]} = ${want}`);
    }
  }
};

Deno.test({
  name: "filter and bias gradients with `into` equal into + the fresh gradient bit for bit",
  ...gpuTestOptions,
  fn: async () => {
    const splitKinds = new Set<string>();
    const cpu = await runGpu(Effect.map(Gpu, (gpu) => gpu.adapter.isFallback));
    for (const [i, c] of cases.entries()) {
      const g = conv2dGeometry(c.input, c.filter, c.options);
      const splits = filterTiling(g, cpu).splits;
      splitKinds.add(splits === 1 ? "single" : "split");
      const label = `${JSON.stringify(c)} via ${convPath(g)}, ${splits} splits`;
      const dyShape = [g.batch, g.outH, g.outW, g.outC];
      const x = seededValues(size(c.input), 50 + i);
      const dy = seededValues(size(dyShape), 60 + i);
      const dwBefore = seededValues(size(c.filter), 70 + i, 3);
      const dbBefore = seededValues(g.outC, 80 + i, 3);
      const out = await runGpu(Effect.gen(function* () {
        const tx = yield* fromArray(x, c.input, "f32");
        const tdy = yield* fromArray(dy, dyShape, "f32");
        const dwInto = yield* fromArray(dwBefore, c.filter, "f32");
        const dbInto = yield* fromArray(dbBefore, [g.outC], "f32");
        const dw = yield* conv2dBackwardFilter(tx, tdy, c.filter, c.options);
        const db = yield* conv2dBackwardBias(tdy);
        const dwSum = yield* conv2dBackwardFilter(tx, tdy, c.filter, c.options, dwInto);
        const dbSum = yield* conv2dBackwardBias(tdy, dbInto);
        if (dwSum !== dwInto || dbSum !== dbInto) throw new Error("`into` not returned");
        return {
          dw: yield* download(dw),
          db: yield* download(db),
          dwSum: yield* download(dwSum),
          dbSum: yield* download(dbSum),
        };
      }));
      assertAdded(out.dwSum, dwBefore, out.dw, `dw ${label}`);
      assertAdded(out.dbSum, dbBefore, out.db, `db ${label}`);
    }
    if (splitKinds.size !== 2) throw new Error(`split kinds covered: ${[...splitKinds]}`);
  },
});

Deno.test({
  name: "filter gradient rejects an `into` of the wrong size",
  ...gpuTestOptions,
  fn: async () => {
    const failed = await runGpuResult(Effect.gen(function* () {
      const x = yield* fromArray(new Float32Array(2 * 4 * 4 * 4), [2, 4, 4, 4], "f32");
      const dy = yield* fromArray(new Float32Array(2 * 4 * 4 * 4), [2, 4, 4, 4], "f32");
      const into = yield* fromArray(new Float32Array(15), [15], "f32");
      return yield* conv2dBackwardFilter(x, dy, [1, 1, 4, 4], {}, into);
    }));
    if (failed._tag !== "Failure") throw new Error("wrong-size `into` accepted");
  },
});
