import { Effect } from "effect";
import { conv2d } from "../../src/autograd/conv.ts";
import { constant, grad, parameter } from "../../src/autograd/tape.ts";
import { conv2dGeometry, type Conv2dOptions } from "../../src/ops/conv.ts";
import {
  conv2dBackwardBiasReference,
  conv2dBackwardFilterReference,
  conv2dBackwardInputReference,
  conv2dForwardReference,
} from "../../src/ops/reference/conv.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
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
    assertClose(got.y, conv2dForwardReference(g, x, w, b), 1e-4, 1e-4, "y");
    assertClose(got.dx, conv2dBackwardInputReference(g, seed, w), 1e-4, 1e-4, "dx");
    assertClose(got.dw, conv2dBackwardFilterReference(g, x, seed), 1e-4, 1e-4, "dw");
    assertClose(got.db, conv2dBackwardBiasReference(g.outC, seed), 1e-4, 1e-4, "db");
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
    assertClose(result.dw, conv2dBackwardFilterReference(g, x, seed), 1e-4, 1e-4, "dw");
    if (result.frozenRecords) throw new Error("a conv of constants recorded a graph");
  },
});
