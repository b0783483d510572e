/**
 * Differentiable bilinear resize (PyTorch's align_corners=False semantics).
 *
 * @module
 */
import { Effect } from "effect";
import { resizeBilinear as resizeOp, resizeBilinearBackward } from "../ops/resize.ts";
import { type GpuScoped, type Node, record } from "./tape.ts";

/** Bilinear resize of `x` [N, H, W, C] to [N, outH, outW, C]. */
export const resizeBilinear = (x: Node, outH: number, outW: number): GpuScoped<Node> =>
  Effect.gen(function* () {
    const y = yield* resizeOp(x.value, outH, outW);
    return record(
      y,
      [x],
      (g) => Effect.map(resizeBilinearBackward(g, x.value.shape), (dx) => [dx]),
      "resizeBilinear",
    );
  });
