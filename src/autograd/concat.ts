/**
 * Differentiable concatenation (channels of NHWC tensors by default).
 *
 * @module
 */
import { Effect } from "effect";
import { concat as concatOp, concatBackward } from "../ops/concat.ts";
import { type GpuScoped, type Node, record } from "./tape.ts";

/** Concatenates `inputs` along `axis` (default: the last); the gradient is sliced back. */
export const concat = (inputs: readonly Node[], axis = -1): GpuScoped<Node> =>
  Effect.gen(function* () {
    const y = yield* concatOp(inputs.map((n) => n.value), axis);
    const shapes = inputs.map((n) => n.value.shape);
    return record(y, inputs, (g) => concatBackward(g, shapes, axis), "concat");
  });
