/**
 * One training iteration: upload a batch, run the new model (and the
 * frozen old one when the method uses it), let the method build its
 * objective, back-propagate the total loss and step SGD. Everything is
 * recorded into the GPU command stream, the loss included: it is copied
 * into a slot of a small buffer that the epoch reads back every few batches.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { add, mul } from "../autograd/basic.ts";
import { backward, constant, type Node, type Parameter } from "../autograd/tape.ts";
import type { Batch } from "../data/loader.ts";
import type { DeepLabV3, SegmentationOutput } from "../nn/mod.ts";
import type { Sgd } from "../optim/sgd.ts";
import { Gpu } from "../gpu/device.ts";
import { fromArray } from "../tensor/tensor.ts";
import type { BatchInput, Method, Objective, OldOutputs, StepInfo } from "./method.ts";
import type { LossSlot } from "./loss_readbacks.ts";

/** Uploads a loader batch. */
export const uploadBatch = (batch: Batch) =>
  Effect.gen(function* () {
    const { size, height, width } = batch;
    const images = yield* fromArray(batch.images, [size, height, width, 3], "f32");
    const labels = yield* fromArray(batch.labels, [size, height, width], "i32");
    return { images, labels, size, height, width } satisfies BatchInput;
  });

/** The old model's outputs as plain tensors. */
export const asOldOutputs = (out: SegmentationOutput): OldOutputs => ({
  logits: out.logits.value,
  smallLogits: out.smallLogits.value,
  features: out.features.value,
  stages: out.stages.map((s) => s.value),
});

/** The classification term an objective carries, scaled when it says so. */
export const classificationLoss = (info: StepInfo, logits: Node, objective: Objective) =>
  Effect.gen(function* () {
    const loss = yield* objective.classification.loss(
      info,
      logits,
      objective.targets,
      objective.pixelWeights,
    );
    return objective.classificationScale
      ? yield* mul(loss, constant(objective.classificationScale))
      : loss;
  });

/** The total loss node of an objective, with its terms for logging. */
export const totalLoss = (info: StepInfo, logits: Node, objective: Objective) =>
  Effect.gen(function* () {
    let total = yield* classificationLoss(info, logits, objective);
    for (const term of objective.terms) total = yield* add(total, term.value);
    return total;
  });

/** What one iteration needs. */
export interface TrainContext {
  readonly info: StepInfo;
  readonly model: DeepLabV3;
  readonly oldModel: DeepLabV3 | undefined;
  readonly method: Method;
  readonly sgd: Sgd;
  readonly parameters: readonly Parameter[];
  /** Scope of the parameters' gradients (outlives the iteration). */
  readonly gradScope: Scope.Scope;
  readonly freezeBn: boolean;
}

/** Records one iteration at learning rate `lr`, its loss copied to `into` (nothing waits). */
export const trainBatch = (context: TrainContext, batch: Batch, lr: number, into: LossSlot) =>
  Effect.scoped(Effect.gen(function* () {
    const { info, model, oldModel, method, sgd } = context;
    const input = yield* uploadBatch(batch);
    const current = yield* model.forward(input.images, {
      mode: "train",
      freezeBn: context.freezeBn,
    });
    const old = oldModel && method.usesOldModel
      ? asOldOutputs(yield* oldModel.forward(input.images, { mode: "eval" }))
      : undefined;
    const objective = yield* method.objective(info, input, current, old);
    const total = yield* totalLoss(info, current.logits, objective);
    yield* sgd.zeroGrad();
    yield* backward(total, context.parameters, context.gradScope);
    yield* sgd.step(lr);
    const gpu = yield* Gpu;
    const loss = total.value;
    gpu.recorder.copy(loss.buffer, loss.offset ?? 0, into.losses.buffer, 4 * into.slot, 4);
  }));
