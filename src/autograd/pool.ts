/**
 * Differentiable pooling: max pool (the backward gathers through the argmax
 * saved by the forward) and global average pooling.
 *
 * @module
 */
import { Effect } from "effect";
import {
  globalAvgPool as globalAvgPoolOp,
  globalAvgPoolBackward,
  maxPool2d as maxPool2dOp,
  maxPool2dBackward,
  type MaxPoolOptions,
} from "../ops/pool.ts";
import { type GpuScoped, type Node, record } from "./tape.ts";

/** Max pool of `x` [N, H, W, C] (ties keep the first pixel of the window). */
export const maxPool2d = (x: Node, options: MaxPoolOptions): GpuScoped<Node> =>
  Effect.gen(function* () {
    const { y, argmax } = yield* maxPool2dOp(x.value, options);
    return record(
      y,
      [x],
      (g) => Effect.map(maxPool2dBackward(g, argmax, x.value.shape, options), (dx) => [dx]),
      "maxPool2d",
    );
  });

/** Mean over H and W: [N, H, W, C] -> [N, 1, 1, C]. */
export const globalAvgPool = (x: Node): GpuScoped<Node> =>
  Effect.gen(function* () {
    const y = yield* globalAvgPoolOp(x.value);
    return record(y, [x], (g) =>
      Effect.map(globalAvgPoolBackward(g, x.value.shape), (dx) => [dx]), "globalAvgPool");
  });
