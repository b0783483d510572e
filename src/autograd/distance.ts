/**
 * Differentiable per-pixel distances over channels (squared L2, L2, cosine),
 * reduced like a loss, and L2-normalisation over channels.
 *
 * @module
 */
import { Effect } from "effect";
import {
  DEFAULT_EPS,
  distance as distanceOp,
  distanceBackward,
  type DistanceKindName,
  type DistanceOptions,
  l2Normalize as l2NormalizeOp,
  l2NormalizeBackward,
} from "../ops/distance.ts";
import { type GpuScoped, type Node, record } from "./tape.ts";

/** Distance between `a` and `b` per pixel, reduced (mean over pixels by default). */
export const distance = (
  kind: DistanceKindName,
  a: Node,
  b: Node,
  options: DistanceOptions = {},
): GpuScoped<Node> =>
  Effect.gen(function* () {
    const r = yield* distanceOp(kind, a.value, b.value, options);
    return record(
      r.value,
      [a, b],
      (g) =>
        Effect.map(
          distanceBackward(kind, a.value, b.value, g, r.totals, options),
          (d) => [a.requiresGrad ? d.a : undefined, b.requiresGrad ? d.b : undefined],
        ),
      kind,
    );
  });

/** ||a_p - b_p||^2 per pixel, reduced (mean over pixels by default). */
export const l2SquaredDistance = (a: Node, b: Node, options?: DistanceOptions) =>
  distance("l2Squared", a, b, options);

/** 1 - cos(a_p, b_p) per pixel, reduced (mean over pixels by default). */
export const cosineDistance = (a: Node, b: Node, options?: DistanceOptions) =>
  distance("cosine", a, b, options);

/** a / max(|a|, eps) per pixel over the channel axis. */
export const l2Normalize = (a: Node, eps = DEFAULT_EPS): GpuScoped<Node> =>
  Effect.map(
    l2NormalizeOp(a.value, eps),
    (value) =>
      record(
        value,
        [a],
        (g) => Effect.map(l2NormalizeBackward(a.value, g, eps), (da) => [da]),
        "l2Normalize",
      ),
  );
