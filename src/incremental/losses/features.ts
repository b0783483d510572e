/**
 * ILT's encoder distillation as MiB runs it: `nn.MSELoss()` between the new
 * and the old backbone outputs, the mean of squared differences over every
 * element. Built from the per-pixel squared L2 distance (mean over pixels)
 * divided by the channel count.
 *
 * @module
 */
import { Effect } from "effect";
import { BindingError } from "../../gpu/errors.ts";
import { scale } from "../../autograd/basic.ts";
import { l2SquaredDistance } from "../../autograd/distance.ts";
import { constant, type GpuScoped, type Node } from "../../autograd/tape.ts";
import type { Tensor } from "../../tensor/tensor.ts";

/** mean((new - old)^2) over all elements of same-shaped NHWC maps; a [1] node. */
export const featureDistillation = (
  newFeatures: Node,
  oldFeatures: Tensor<"f32">,
): GpuScoped<Node> =>
  Effect.gen(function* () {
    const shape = newFeatures.value.shape;
    const channels = shape[shape.length - 1] ?? 0;
    if (oldFeatures.shape.join(",") !== shape.join(",") || channels === 0) {
      return yield* new BindingError({
        kernel: "featureDistillation",
        binding: "oldFeatures",
        reason: `old [${oldFeatures.shape.join(", ")}] vs new [${shape.join(", ")}]`,
      });
    }
    const perPixel = yield* l2SquaredDistance(newFeatures, constant(oldFeatures));
    return yield* scale(perPixel, 1 / channels);
  });
