/**
 * Differentiable 2-D convolution (NHWC input, HWIO filter, optional bias):
 * the backward computes only the gradients its parents need, with the ops of
 * src/ops/conv.ts.
 *
 * @module
 */
import { Effect } from "effect";
import {
  conv2dBackwardBias,
  conv2dBackwardFilter,
  conv2dBackwardInput,
  conv2dForward,
  type Conv2dOptions,
} from "../ops/conv.ts";
import { type GpuScoped, type Node, record } from "./tape.ts";

/**
 * y = conv2d(x, w) + bias. Records dx (transposed convolution of the output
 * gradient), dw (split-K filter gradient) and db (channel sums of the output
 * gradient) for the parents that require them.
 */
export const conv2d = (
  x: Node,
  w: Node,
  bias: Node | undefined,
  options: Conv2dOptions = {},
): GpuScoped<Node> =>
  Effect.gen(function* () {
    const value = yield* conv2dForward(x.value, w.value, bias?.value, options);
    const parents = bias ? [x, w, bias] : [x, w];
    // The filter and bias gradients go straight into the parameters' gradient
    // buffers when the walk offers them (`into`).
    return record(value, parents, (g, into) =>
      Effect.gen(function* () {
        const dx = x.requiresGrad
          ? yield* conv2dBackwardInput(g, w.value, x.value.shape, options)
          : undefined;
        const dw = w.requiresGrad
          ? yield* conv2dBackwardFilter(x.value, g, w.value.shape, options, into[1])
          : undefined;
        if (!bias) return [dx, dw];
        const db = bias.requiresGrad ? yield* conv2dBackwardBias(g, into[2]) : undefined;
        return [dx, dw, db];
      }), "conv2d");
  });
