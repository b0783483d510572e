import { Effect } from "effect";
import { conv2d } from "../../src/autograd/conv.ts";
import { constant, grad, parameter } from "../../src/autograd/tape.ts";
import { conv2dGeometry, type Conv2dOptions } from "../../src/ops/conv.ts";
import {
  conv2dBackwardBiasReference,
  conv2dBackwardFilterReference,
  conv2dBackwardInputReference,
  conv2dForwardReference,
} from "../reference/conv.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, EPS32, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { seededValues } from "../support/arbitrary.ts";

const input = [2, 7, 9, 8];
const filter = [3, 3, 4, 12];
const options: Conv2dOptions = { stride: [2, 1], padding: [1, 2], dilation: [1, 2], groups: 2 };
const g = conv2dGeometry(input, filter, options);
const outShape = [g.batch, g.outH, g.outW, g.outC];
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const x = seededValues(size(input), 1);
const w = seededValues(size(filter), 2);
const b = seededValues(g.outC, 3);
const seed = seededValues(size(outShape), 4);

// Each value within 16 ulps of the sum of its |terms|: the reference on |x|, |w|, |b|, |dy|.
const abs = (v: Float32Array) => Array.from(v, Math.abs);
const ulps = (terms: ArrayLike<number>) => Array.from(terms, (t) => 16 * EPS32 * t);
const atol = {
  y: ulps(conv2dForwardReference(g, abs(x), abs(w), abs(b))),
  dx: ulps(conv2dBackwardInputReference(g, abs(seed), abs(w))),
  dw: ulps(conv2dBackwardFilterReference(g, abs(x), abs(seed))),
  db: ulps(conv2dBackwardBiasReference(g.outC, abs(seed))),
};

Deno.test({
  name: "conv2d node: value and the gradients of x, w and bias seeded with dy match the references",
  ...gpuTestOptions,
  fn: async () => {
    const got = await runGpu(Effect.gen(function* () {
      const xn = parameter(yield* fromArray(x, input, "f32"), "x");
      const wn = parameter(yield* fromArray(w, filter, "f32"), "w");
      const bn = parameter(yield* fromArray(b, [g.outC], "f32"), "b");
      const y = yield* conv2d(xn, wn, bn, options);
      const dy = yield* fromArray(seed, outShape, "f32");
      const [dx, dw, db] = yield* grad(y, [xn, wn, bn], dy);
      return {
        y: yield* download(y.value),
        dx: yield* download(dx),
        dw: yield* download(dw),
        db: yield* download(db),
      };
    }));
    assertClose(got.y, conv2dForwardReference(g, x, w, b), atol.y, 0, "y");
    assertClose(got.dx, conv2dBackwardInputReference(g, seed, w), atol.dx, 0, "dx");
    assertClose(got.dw, conv2dBackwardFilterReference(g, x, seed), atol.dw, 0, "dw");
    assertClose(got.db, conv2dBackwardBiasReference(g.outC, seed), atol.db, 0, "db");
  },
});

Deno.test({
  name: "conv2d node: a frozen input gets no gradient, and frozen operands record no graph",
  ...gpuTestOptions,
  fn: async () => {
    const result = await runGpu(Effect.gen(function* () {
      const xn = constant(yield* fromArray(x, input, "f32"));
      const wn = parameter(yield* fromArray(w, filter, "f32"), "w");
      const y = yield* conv2d(xn, wn, undefined, options);
      const dy = yield* fromArray(seed, outShape, "f32");
      const [dx, dw] = yield* grad(y, [xn, wn], dy);
      const frozen = yield* conv2d(xn, constant(wn.value), undefined, options);
      return {
        dx: yield* download(dx),
        dw: yield* download(dw),
        frozenRecords: frozen.requiresGrad || frozen.parents.length > 0,
      };
    }));
    if (result.dx.some((v) => v !== 0)) throw new Error("a constant input received a gradient");
    assertClose(result.dw, conv2dBackwardFilterReference(g, x, seed), atol.dw, 0, "dw");
    if (result.frozenRecords) throw new Error("a conv of constants recorded a graph");
  },
});
