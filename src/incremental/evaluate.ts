/**
 * Evaluation after a step: the model in eval mode over the evaluation
 * split, a streaming confusion matrix on the GPU, and the few images the
 * report shows as strips (image | ground truth | prediction). Pixels whose
 * label the confusion kernel cannot place (outside the task's classes and
 * not 255) fail the evaluation: the matrix leaves them out, so the mIoU
 * would be silently computed over part of the split. A domain task is
 * evaluated per step's cities (one matrix each, summed for the total).
 *
 * @module
 */
import { Data, Effect } from "effect";
import { IMAGENET_MEAN, IMAGENET_STD } from "../data/augment.ts";
import type { Loader } from "../data/loader.ts";
import { stepClasses, type Task } from "../data/mod.ts";
import type { DeepLabV3 } from "../nn/mod.ts";
import { argmax } from "../ops/reduce.ts";
import { download } from "../tensor/tensor.ts";
import {
  accumulateConfusion,
  type Confusion,
  confusionToMetrics,
  makeConfusion,
  readConfusion,
} from "./metrics.ts";
import type { ClassSplit } from "./joint.ts";
import { uploadBatch } from "./train_batch.ts";
import type { StepMetrics } from "./types.ts";

/** One evaluation image for the report's strips. */
export interface StripSample {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  /** RGB bytes. */
  readonly rgb: Uint8Array;
  readonly label: Int32Array;
  readonly prediction: Int32Array;
}

/** Result of {@link evaluateStep}. */
export interface Evaluation {
  readonly metrics: StepMetrics;
  readonly strips: readonly StripSample[];
  readonly seconds: number;
  /** The summed confusion matrix (pixels, row-major K x K over all the task's classes; rows = ground truth). */
  readonly matrix: Float64Array;
}

/**
 * A domain step's metrics: {@link StepMetrics} plus the mIoU and image count
 * on the test images of each step's cities (index g = domain step g <= t).
 */
export interface DomainStepMetrics extends StepMetrics {
  readonly domainMiou: readonly (number | null)[];
  readonly domainImages: readonly number[];
}

/** The per-step-cities numbers of a domain step's metrics, if it has them. */
export const domainMetricsOf = (m: StepMetrics): DomainStepMetrics | undefined =>
  Array.isArray((m as Partial<DomainStepMetrics>).domainMiou) ? m as DomainStepMetrics : undefined;

/** Evaluation met labels outside the task's classes (and not 255): its metrics would be wrong. */
export class EvaluationLabelError extends Data.TaggedError("EvaluationLabelError")<{
  /** What was evaluated, e.g. `split val`. */
  readonly source: string;
  readonly step: number;
  /** Pixels the confusion matrix could not count. */
  readonly pixels: number;
  readonly classes: number;
}> {
  override get message(): string {
    return `evaluation of step ${this.step} on ${this.source}: ${this.pixels} pixels have labels ` +
      `outside the task's ${this.classes} classes (0..${this.classes - 1}) and not 255; the ` +
      `confusion matrix leaves them out, so no mIoU is reported (check the split's masks and ` +
      `the task's class lists)`;
  }
}

/** Undoes the loader's normalisation of one NHWC image. */
const toRgb = (images: Float32Array, offset: number, pixels: number): Uint8Array => {
  const rgb = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < 3; c++) {
      const v = (images[offset + p * 3 + c] * IMAGENET_STD[c] + IMAGENET_MEAN[c]) * 255;
      rgb[p * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return rgb;
};

/** Accumulates one loader's epoch 0 into `confusion`, keeping strips; returns the image count. */
const accumulateLoader = (
  model: DeepLabV3,
  confusion: Confusion,
  loader: Loader,
  strips: StripSample[],
  stripCount: number,
) =>
  Effect.scoped(Effect.gen(function* () {
    const stream = loader.epoch(0);
    let images = 0;
    yield* Effect.addFinalizer(() => Effect.sync(() => stream.close()));
    while (true) {
      const batch = yield* stream.nextEffect();
      if (!batch) break;
      images += batch.size;
      yield* Effect.scoped(Effect.gen(function* () {
        const input = yield* uploadBatch(batch);
        const out = yield* model.forward(input.images, { mode: "eval" });
        yield* accumulateConfusion(confusion, out.logits.value, input.labels);
        if (strips.length < stripCount) {
          const predictions = yield* download(yield* argmax(out.logits.value, 3));
          const pixels = batch.height * batch.width;
          for (let i = 0; i < batch.size && strips.length < stripCount; i++) {
            strips.push({
              name: batch.names[i],
              width: batch.width,
              height: batch.height,
              rgb: toRgb(batch.images, i * pixels * 3, pixels),
              label: batch.labels.slice(i * pixels, (i + 1) * pixels),
              prediction: predictions.slice(i * pixels, (i + 1) * pixels),
            });
          }
        }
      }));
    }
    return images;
  }));

/** One loader's confusion matrix and image count. */
const loaderMatrix = (
  model: DeepLabV3,
  loader: Loader,
  classes: number,
  t: number,
  strips: StripSample[],
  stripCount: number,
) =>
  Effect.scoped(Effect.gen(function* () {
    const confusion = yield* makeConfusion(classes);
    const images = yield* accumulateLoader(model, confusion, loader, strips, stripCount);
    const { matrix, badPixels } = yield* readConfusion(confusion);
    if (badPixels > 0) {
      return yield* new EvaluationLabelError({
        source: loader.name ?? "the evaluation split",
        step: t,
        pixels: badPixels,
        classes,
      });
    }
    return { matrix, images };
  }));

/** The mIoU over every class with ground truth in `matrix`. */
const miouOf = (matrix: ArrayLike<number>, classes: readonly number[], total: number, t: number) =>
  confusionToMetrics(matrix, {
    step: t,
    seenClasses: classes,
    oldClasses: classes,
    newClasses: [],
    totalClasses: total,
    images: 0,
  }).miouAll;

/**
 * Evaluates `model` after step `t` of `task` over each loader's epoch 0 (the
 * matrices summed). On a class task: one loader, old = step 0's classes, new
 * = the classes of steps 1..t, or those of `split` when given (a joint run:
 * old = the registered task's first step, new = its later steps, so its one
 * step reports old and new as an incremental run's last step does). On a
 * domain task (one loader per step's
 * cities, {@link evalLoaders}): every class is seen, and `miouOld` is the
 * mIoU on the test images of step 0's cities, `miouNew` on those of the
 * cities of steps 1..t (null at step 0), `miouAll` on all of them.
 */
export const evaluateStep = (
  model: DeepLabV3,
  task: Task,
  t: number,
  loaders: Loader | readonly Loader[],
  stripCount: number,
  split?: ClassSplit,
) =>
  Effect.gen(function* () {
    const started = performance.now();
    const domain = task.kind === "domain";
    const totalClasses = domain ? task.classes.length : task.steps.flat().length;
    const strips: StripSample[] = [];
    const groups: { matrix: ArrayLike<number>; images: number }[] = [];
    for (const loader of Array.isArray(loaders) ? loaders : [loaders as Loader]) {
      groups.push(yield* loaderMatrix(model, loader, totalClasses, t, strips, stripCount));
    }
    const sum = (parts: typeof groups) => {
      const out = new Float64Array(totalClasses * totalClasses);
      for (const g of parts) for (let i = 0; i < out.length; i++) out[i] += g.matrix[i];
      return out;
    };
    const images = groups.reduce((n, g) => n + g.images, 0);
    const total = sum(groups);
    const classes = stepClasses(task, t);
    const seen = [...classes.old, ...classes.current].sort((a, b) => a - b);
    if (!domain) {
      const metrics = confusionToMetrics(total, {
        step: t,
        seenClasses: seen,
        oldClasses: [...(split?.old ?? task.steps[0])],
        newClasses: split ? [...split.new] : task.steps.slice(1, t + 1).flat(),
        totalClasses,
        images,
      });
      const seconds = (performance.now() - started) / 1000;
      return { metrics, strips, seconds, matrix: total } as Evaluation;
    }
    const all = confusionToMetrics(total, {
      step: t,
      seenClasses: seen,
      oldClasses: seen,
      newClasses: [],
      totalClasses,
      images,
    });
    const metrics: DomainStepMetrics = {
      ...all,
      miouOld: miouOf(sum(groups.slice(0, 1)), seen, totalClasses, t),
      miouNew: t > 0 ? miouOf(sum(groups.slice(1)), seen, totalClasses, t) : null,
      domainMiou: groups.map((g) => miouOf(g.matrix, seen, totalClasses, t)),
      domainImages: groups.map((g) => g.images),
    };
    const seconds = (performance.now() - started) / 1000;
    return { metrics, strips, seconds, matrix: total } as Evaluation;
  });
