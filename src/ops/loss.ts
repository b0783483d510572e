/**
 * What the per-pixel losses share: the reduction (none / sum / mean), the
 * WGSL `upstream` helper that turns the output gradient into each pixel's
 * gradient, and the step that reduces a loss kernel's [P, K] rows to the
 * loss value. Losses live in cross_entropy.ts, kl.ts and bce.ts.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import type { Gpu } from "../gpu/device.ts";
import type { GpuError } from "../gpu/errors.ts";
import { copyRegion } from "./core.ts";
import { columnTotals, finalizeTotals } from "./masked.ts";
import { empty, type Shape, type Tensor } from "../tensor/tensor.ts";
import upstreamSource from "../../shaders/loss/upstream.wgsl" with { type: "text" };

/**
 * How a per-pixel loss map becomes the loss: `none` keeps the map, `sum` adds
 * it up, `mean` divides the sum by the loss's denominator (valid pixels for
 * cross-entropy, the mask's sum for KL, the element count for BCE).
 */
export type Reduction = "none" | "sum" | "mean";

/** The REDUCTION constant of the loss backward kernels. */
export const reductionCode = (reduction: Reduction): number =>
  reduction === "none" ? 0 : reduction === "sum" ? 1 : 2;

/** WGSL of `upstream(i)` (shaders/loss/upstream.wgsl), prepended to backward kernels. */
export const upstreamWgsl: string = upstreamSource;

/** A reduced loss and the column totals its backward reads. */
export interface ReducedLoss {
  /** The loss: [1] for sum and mean, the per-pixel map (shape `mapShape`) for none. */
  readonly value: Tensor<"f32">;
  /** [K + 1] column sums of the rows (column 0 the loss sum), then the row count. */
  readonly totals: Tensor<"f32">;
}

/**
 * Reduces a loss kernel's rows [P, K] (column 0: the pixel's loss; column
 * `denColumn`: its share of the mean's denominator) to the loss.
 */
export const reduceLossRows = (
  rows: Tensor<"f32">,
  pixels: number,
  columns: number,
  reduction: Reduction,
  denColumn: number,
  mapShape: Shape,
): Effect.Effect<ReducedLoss, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const totals = yield* columnTotals(rows, pixels, columns);
    if (reduction !== "none") {
      const value = yield* finalizeTotals(totals, 1, reduction === "mean", denColumn);
      return { value, totals };
    }
    const value = yield* empty(mapShape, "f32");
    if (columns === 1) {
      yield* copyRegion(rows, value, {
        rows: 1,
        cols: pixels,
        srcOffset: 0,
        srcStride: 0,
        dstOffset: 0,
        dstStride: 0,
      });
    } else {
      yield* copyRegion(rows, value, {
        rows: pixels,
        cols: 1,
        srcOffset: 0,
        srcStride: columns,
        dstOffset: 0,
        dstStride: 1,
      });
    }
    return { value, totals };
  });
