/**
 * Passes over a step's training images, for the work a method does before
 * and after training (PLOP's entropy thresholds, GSC's prototypes). The
 * images come as PLOP's thresholds pass sees them, through the training
 * augmentation (`passLoader`). Both models run in eval mode; nothing is
 * trained.
 *
 * @module
 */
import { Effect } from "effect";
import type { GpuScoped } from "../autograd/tape.ts";
import type { DeepLabV3 } from "../nn/mod.ts";
import { passLoader, type RunData } from "./data.ts";
import type { BatchInput, DataPass } from "./method.ts";
import { asOldOutputs, uploadBatch } from "./train_batch.ts";
import type { RunConfig } from "./types.ts";

/** The passes of step `t` with the step's model and (after step 0) the old model. */
export const makeDataPass = (
  data: RunData,
  config: RunConfig,
  t: number,
  model: DeepLabV3,
  oldModel: DeepLabV3 | undefined,
): DataPass => {
  /** Uploads every batch of the pass and hands it to `onBatch` inside its own scope. */
  const run = (onBatch: (input: BatchInput) => GpuScoped<void>) =>
    Effect.gen(function* () {
      const stream = passLoader(data, config, t).epoch(0);
      while (true) {
        const batch = yield* stream.nextEffect();
        if (!batch) break;
        yield* Effect.scoped(Effect.flatMap(uploadBatch(batch), onBatch));
      }
      stream.close();
    });
  return {
    withOldModel: (visit) =>
      run((input) =>
        Effect.gen(function* () {
          if (!oldModel) return;
          const old = yield* oldModel.forward(input.images, { mode: "eval" });
          yield* visit(input, asOldOutputs(old));
        })
      ),
    withBothModels: (visit) =>
      run((input) =>
        Effect.gen(function* () {
          const current = yield* model.forward(input.images, { mode: "eval" });
          const old = oldModel
            ? asOldOutputs(yield* oldModel.forward(input.images, { mode: "eval" }))
            : undefined;
          yield* visit(input, current, old);
        })
      ),
  };
};
