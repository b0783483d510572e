/**
 * The fixtures of the methods' objective tests (methods_test.ts,
 * gsc_methods_test.ts): synthetic/2-2 configurations and StepInfo as the
 * engine builds them, seeded outputs and labels uploaded as autograd leaves,
 * in-memory data passes, and comparisons against the float64 composition of
 * the references (tests/reference/methods.ts) with negative controls.
 *
 * @module
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Effect, Result } from "effect";
import { grad, type Node, parameter } from "../../src/autograd/tape.ts";
import { parseTrainOptions } from "../../src/cli/mod.ts";
import { type ClassTask, findTask, SeededRng, stepClasses } from "../../src/data/mod.ts";
import {
  type BatchInput,
  classStepTable,
  type DataPass,
  type Method,
  type NewOutputs,
  type OldOutputs,
  type StepInfo,
} from "../../src/incremental/method.ts";
import { classificationLoss, totalLoss } from "../../src/incremental/train_batch.ts";
import type { RunConfig } from "../../src/incremental/types.ts";
import { entropyHistogramReference, type Nhwc, plopEntropyReference } from "../reference/plop.ts";
import { medianThresholds } from "../../src/incremental/losses/mod.ts";
import type {
  BatchReference,
  ObjectiveReference,
  OutputsReference,
  PartReference,
  StepReference,
} from "../reference/methods.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose } from "../support/gpu.ts";

export const TASK = findTask("synthetic/2-2") as ClassTask;
export const N = 2;
export const H = 6;
export const W = 5;
/** Backbone stages and the head's features, at their own sizes (every one fits local POD). */
export const STAGE_SHAPES: readonly Nhwc[] = [[N, 6, 6, 2], [N, 4, 4, 3]];
export const FEATURE_SHAPE: Nhwc = [N, 4, 5, 3];
/** The logits before upsampling (channels: the model's classes). */
export const SMALL_SIZE = [4, 4] as const;
/** PLOP's histogram bins (src/incremental/methods/plop.ts). */
export const ENTROPY_BINS = 100;

/**
 * Tolerance of every comparison: REL times the largest |expected| of the
 * tensor (or scalar) compared; a tensor expected to be all zero must be
 * exactly zero. The f32 kernels' worst error seen here is 5.2e-7 of that
 * scale (the prototypes, SSRD's gradient); the nearest negative control
 * (lambdaSoft 1 -> 1.01 on SSRD) is off by 2.7e-3.
 */
export const REL = 2e-5;

export const config = (method: string, ...extra: string[]): RunConfig => {
  const argv = ["--dataset", "synth", "--task", "2-2", "--method", method, ...extra];
  const parsed = parseTrainOptions(argv);
  if (!Result.isSuccess(parsed)) throw new Error(`options must parse: ${argv.join(" ")}`);
  return parsed.success.config;
};

/** Step t's StepInfo, as the engine's `stepInfo` builds it. */
export const stepInfo = (c: RunConfig, t: number): StepInfo => {
  const classes = stepClasses(TASK, t);
  return {
    step: t,
    steps: TASK.steps.length,
    seen: classes.old.length + classes.current.length,
    old: classes.old.length,
    current: classes.current,
    classStep: classStepTable(TASK.steps, t),
    config: c,
  };
};

export const referenceStep = (info: StepInfo): StepReference => ({
  step: info.step,
  seen: info.seen,
  old: info.old,
  added: info.current.length,
  classStep: info.classStep,
});

export const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export const floats = (rng: SeededRng, n: number, lo: number, hi: number) =>
  Float32Array.from({ length: n }, () => rng.uniform(lo, hi));

/** How an old model's logits lean: each pixel favours one class by a margin in [lo, hi). */
export type Lean = readonly [lo: number, hi: number];

/**
 * Logits of `channels`: uniform in [-2, 2), or, leaning, in [-1, 1) with one
 * class per pixel raised by the lean's margin. The old model's default lean
 * [1.5, 7) spreads PLOP's normalised entropies over about [0.003, 0.16].
 */
export const logitsOf = (rng: SeededRng, channels: number, lean: Lean | undefined) => {
  const z = floats(rng, N * H * W * channels, lean ? -1 : -2, lean ? 1 : 2);
  if (lean) {
    for (let p = 0; p < N * H * W; p++) {
      z[p * channels + rng.int(0, channels - 1)] += rng.uniform(lean[0], lean[1]);
    }
  }
  return z;
};

/** `small` draws the logits before upsampling, so the other draws stay as they were. */
export const outputsOf = (
  rng: SeededRng,
  small: SeededRng,
  channels: number,
  lean?: Lean,
): Outputs => ({
  logits: logitsOf(rng, channels, lean),
  features: floats(rng, sizeOf(FEATURE_SHAPE), -1, 1),
  featureShape: FEATURE_SHAPE,
  stages: STAGE_SHAPES.map((s) => floats(rng, sizeOf(s), -1, 1)),
  stageShapes: STAGE_SHAPES,
  smallLogits: floats(small, N * SMALL_SIZE[0] * SMALL_SIZE[1] * channels, -2, 2),
  smallLogitsShape: [N, SMALL_SIZE[0], SMALL_SIZE[1], channels],
});

/**
 * Labels of a step's batch: the engine's labels are 0, 255 and the step's
 * classes; old classes are mixed in too (a label below `old` is what the
 * unbiased losses and PLOP treat as background).
 */
export const labelsOf = (rng: SeededRng, info: StepInfo) =>
  Int32Array.from({ length: N * H * W }, () => {
    const r = rng.float();
    if (r < 0.1) return 255;
    if (r < 0.45) return 0;
    if (r < 0.6 && info.old > 1) return rng.int(1, info.old - 1);
    return info.current[rng.int(0, info.current.length - 1)];
  });

/** Outputs and labels held as the f32 / i32 arrays the GPU receives. */
export interface Outputs extends OutputsReference {
  readonly logits: Float32Array;
  readonly features: Float32Array;
  readonly stages: readonly Float32Array[];
  readonly smallLogits: Float32Array;
  readonly smallLogitsShape: Nhwc;
}

export interface Batch extends BatchReference {
  readonly labels: Int32Array;
}

export interface Fixture {
  readonly batch: Batch;
  readonly current: Outputs;
  readonly old: Outputs | undefined;
}

/** A batch of step t with the new and (after step 0) old outputs; `background`: every label 0. */
export const fixtureOf = (
  info: StepInfo,
  seed: number,
  tag: string,
  lean: Lean = [1.5, 7],
  background = false,
): Fixture => {
  const rng = new SeededRng(seed, tag, info.step);
  const labels = background ? new Int32Array(N * H * W) : labelsOf(rng, info);
  return {
    batch: { labels, n: N, h: H, w: W },
    current: outputsOf(rng, new SeededRng(seed, tag, info.step, 1), info.seen),
    old: info.old > 0
      ? outputsOf(rng, new SeededRng(seed, tag, info.step, 2), info.old, lean)
      : undefined,
  };
};

export const uploadBatch = (b: Batch) =>
  Effect.gen(function* () {
    const labels = yield* fromArray(Int32Array.from(b.labels), [b.n, b.h, b.w], "i32");
    const images = yield* fromArray(
      new Float32Array(b.n * b.h * b.w * 3),
      [b.n, b.h, b.w, 3],
      "f32",
    );
    return { images, labels, size: b.n, height: b.h, width: b.w } satisfies BatchInput;
  });

/** The new model's outputs as leaves (logits, small logits, features, then the stages). */
export const uploadNew = (o: Outputs, channels: number) =>
  Effect.gen(function* () {
    const logits = parameter(yield* fromArray(o.logits, [N, H, W, channels], "f32"), "logits");
    const smallLogits = parameter(
      yield* fromArray(o.smallLogits, o.smallLogitsShape, "f32"),
      "smallLogits",
    );
    const features = parameter(yield* fromArray(o.features, o.featureShape, "f32"), "features");
    const stages: Node[] = [];
    for (let l = 0; l < o.stages.length; l++) {
      stages.push(parameter(yield* fromArray(o.stages[l], o.stageShapes[l], "f32"), `stage${l}`));
    }
    const outputs: NewOutputs = { logits, smallLogits, features, stages };
    return { outputs, leaves: [logits, smallLogits, features, ...stages] };
  });

export const uploadOld = (o: Outputs, channels: number) =>
  Effect.gen(function* () {
    const stages = [];
    for (let l = 0; l < o.stages.length; l++) {
      stages.push(yield* fromArray(o.stages[l], o.stageShapes[l], "f32"));
    }
    return {
      logits: yield* fromArray(o.logits, [N, H, W, channels], "f32"),
      smallLogits: yield* fromArray(o.smallLogits, o.smallLogitsShape, "f32"),
      features: yield* fromArray(o.features, o.featureShape, "f32"),
      stages,
    } satisfies OldOutputs;
  });

/** A data pass over in-memory batches (what the engine's pass loader would hand over). */
export const memoryPass = (info: StepInfo, batches: readonly Fixture[]): DataPass => ({
  withOldModel: (visit) =>
    Effect.forEach(batches, (f) =>
      Effect.scoped(Effect.gen(function* () {
        if (!f.old) return;
        yield* visit(yield* uploadBatch(f.batch), yield* uploadOld(f.old, info.old));
      })), { discard: true }),
  withBothModels: (visit) =>
    Effect.forEach(batches, (f) =>
      Effect.scoped(Effect.gen(function* () {
        const current = yield* uploadNew(f.current, info.seen);
        const old = f.old ? yield* uploadOld(f.old, info.old) : undefined;
        yield* visit(yield* uploadBatch(f.batch), current.outputs, old);
      })), { discard: true }),
});

/** A part's value and gradients as the GPU computed them. */
export interface GotPart {
  readonly value: number;
  readonly logits: Float32Array;
  readonly features: Float32Array;
  readonly stages: Float32Array[];
  readonly smallLogits: Float32Array;
}

/** What the method's objective gave, read back. */
export interface Got {
  readonly classification: string;
  readonly terms: readonly string[];
  readonly targets: Int32Array;
  readonly pixelWeights: Float32Array | undefined;
  readonly parts: Readonly<Record<string, GotPart>>;
  readonly total: GotPart;
}

/** Runs `method.objective` on a fixture and reads back every part and its gradients. */
export const runObjective = (method: Method, info: StepInfo, f: Fixture) =>
  Effect.gen(function* () {
    const batch = yield* uploadBatch(f.batch);
    const current = yield* uploadNew(f.current, info.seen);
    const old = f.old ? yield* uploadOld(f.old, info.old) : undefined;
    const objective = yield* method.objective(info, batch, current.outputs, old);
    const read = (node: Node) =>
      Effect.gen(function* () {
        const [dLogits, dSmall, dFeatures, ...dStages] = yield* grad(node, current.leaves);
        const stages: Float32Array[] = [];
        for (const d of dStages) stages.push(yield* download(d));
        return {
          value: (yield* download(node.value))[0],
          logits: yield* download(dLogits),
          features: yield* download(dFeatures),
          stages,
          smallLogits: yield* download(dSmall),
        } satisfies GotPart;
      });
    const parts: Record<string, GotPart> = {
      classification: yield* read(
        yield* classificationLoss(info, current.outputs.logits, objective),
      ),
    };
    for (const term of objective.terms) parts[term.name] = yield* read(term.value);
    return {
      classification: objective.classification.name,
      terms: objective.terms.map((t) => t.name),
      targets: yield* download(objective.targets),
      pixelWeights: objective.pixelWeights ? yield* download(objective.pixelWeights) : undefined,
      parts,
      total: yield* read(yield* totalLoss(info, current.outputs.logits, objective)),
    } satisfies Got;
  });

export const maxAbs = (xs: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < xs.length; i++) m = Math.max(m, Math.abs(xs[i]));
  return m;
};

/** |got - want| <= REL * max |want| over the tensor (exactly 0 where want is all 0). */
export const near = (got: ArrayLike<number>, want: ArrayLike<number>, label: string) =>
  assertClose(got, want, REL * maxAbs(want), 0, label);

export const comparePart = (got: GotPart, want: PartReference, label: string) => {
  near([got.value], [want.value], `${label} value`);
  near(got.logits, want.logits, `${label} d/dlogits`);
  near(got.features, want.features, `${label} d/dfeatures`);
  assertEquals(got.stages.length, want.stages.length);
  got.stages.forEach((s, l) => near(s, want.stages[l], `${label} d/dstage${l}`));
  near(got.smallLogits, want.smallLogits, `${label} d/dsmallLogits`);
};

/** Throws unless the objective matches the reference part by part. */
export const compare = (got: Got, want: ObjectiveReference, label: string) => {
  assertEquals(got.classification, want.classification, `${label}: classification`);
  assertEquals(got.terms, want.terms, `${label}: terms`);
  assertEquals([...got.targets], want.targets, `${label}: targets`);
  assertEquals(
    got.pixelWeights === undefined,
    want.pixelWeights === undefined,
    `${label}: weights`,
  );
  if (got.pixelWeights && want.pixelWeights) {
    near(got.pixelWeights, want.pixelWeights, `${label}: pixel weights`);
  }
  for (const name of ["classification", ...want.terms]) {
    comparePart(got.parts[name], want.parts[name], `${label}: ${name}`);
  }
  comparePart(got.total, want.total, `${label}: total`);
};

/** Throws unless `check` throws: a negative control must be told apart. */
export const mustThrow = (check: () => void, label: string) => {
  try {
    check();
  } catch {
    return;
  }
  throw new Error(`${label}: the comparison did not tell the two apart`);
};

/** The comparison must fail against a reference that differs (a negative control). */
export const mustDiffer = (got: Got, other: ObjectiveReference, label: string) =>
  mustThrow(() => compare(got, other, label), label);

/** The same for one part (same structure, other values). */
export const partsDiffer = (got: GotPart, other: PartReference, label: string) =>
  mustThrow(() => comparePart(got, other, label), label);

export const STEPS = [0, 1, 2];

/** PLOP's thresholds from a pass: the reference histogram through PLOP's median rule. */
export const plopThresholds = (info: StepInfo, pass: readonly Fixture[]) => {
  const histogram = new Array<number>(info.old * ENTROPY_BINS).fill(0);
  for (const f of pass) {
    const h = entropyHistogramReference(
      f.old!.logits,
      f.batch.labels,
      info.old,
      ENTROPY_BINS,
      info.seen,
    );
    h.forEach((v, i) => (histogram[i] += v));
    // The f32 entropy must fall in the same bin: no pixel within 1e-5 of a bin edge.
    f.batch.labels.forEach((y, p) => {
      if (y !== 0) return;
      const e = plopEntropyReference(f.old!.logits, p, info.old, info.seen).entropy * ENTROPY_BINS;
      if (Math.abs(e - Math.round(e)) < 1e-5) throw new Error(`pixel ${p} on a bin edge: ${e}`);
    });
  }
  return medianThresholds(histogram, ENTROPY_BINS, info.old);
};

/** No pixel PLOP would relabel sits within 1e-5 of its class threshold. */
export const checkPlopMargins = (info: StepInfo, f: Fixture, thresholds: ArrayLike<number>) => {
  let confident = 0;
  let unsure = 0;
  f.batch.labels.forEach((y, p) => {
    if (!(y >= 0 && y < info.old)) return;
    const { entropy, argmax } = plopEntropyReference(f.old!.logits, p, info.old, info.seen);
    const margin = entropy - thresholds[argmax];
    if (Math.abs(margin) < 1e-5) throw new Error(`pixel ${p} on its threshold: ${margin}`);
    if (margin < 0) confident++;
    else unsure++;
  });
  // The fixture exercises both outcomes.
  if (confident === 0 || unsure === 0) throw new Error(`${confident} confident, ${unsure} not`);
};
