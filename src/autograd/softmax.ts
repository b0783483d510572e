/**
 * Differentiable softmax and log-softmax over channels, with a temperature.
 * The backward needs only the forward output, which the node already holds.
 *
 * @module
 */
import { Effect } from "effect";
import {
  logSoftmax as logSoftmaxOp,
  softmax as softmaxOp,
  softmaxBackward,
  type SoftmaxOptions,
} from "../ops/softmax.ts";
import { type GpuScoped, type Node, record } from "./tape.ts";

const wrap = (log: boolean, z: Node, options: SoftmaxOptions): GpuScoped<Node> =>
  Effect.map(
    log ? logSoftmaxOp(z.value, options) : softmaxOp(z.value, options),
    (value) =>
      record(
        value,
        [z],
        (g) => Effect.map(softmaxBackward(value, g, log, options), (dz) => [dz]),
        log ? "logSoftmax" : "softmax",
      ),
  );

/** softmax(z / T) over the last (channel) axis. */
export const softmax = (z: Node, options: SoftmaxOptions = {}): GpuScoped<Node> =>
  wrap(false, z, options);

/** log-softmax(z / T) over the last (channel) axis. */
export const logSoftmax = (z: Node, options: SoftmaxOptions = {}): GpuScoped<Node> =>
  wrap(true, z, options);
