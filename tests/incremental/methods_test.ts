/**
 * The methods' objectives by value: fine-tuning, LwF, ILT, MiB, PLOP and
 * GSC, each built by `makeMethod` from the options the CLI parses, driven
 * at steps 0, 1 and 2 of synthetic/2-2 (classes {0, 1, 2}, then {3, 4},
 * then {5, 6}; StepInfo built as the engine's `stepInfo` builds it) on
 * fixed seeded outputs given as autograd leaves. Every part the engine sums
 * (the classification loss and each term) and the total, the targets and
 * the per-pixel weights, and the gradient of each part with respect to the
 * new logits, features and backbone stages are compared with a float64
 * composition of the references (src/ops/reference/methods.ts).
 *
 * Data passes run for real over two in-memory batches: PLOP's `beginStep`
 * (its entropy thresholds) and GSC's `endStep` (its prototypes, which are
 * compared too and feed PPR at the next step); GSC's step 2 is also run
 * after `importState` with the reference's prototypes. Decisions that
 * depend on a threshold (PLOP's bins and confidence, PPR's argmax and
 * theta) are checked to lie away from it in the fixtures. Each test also
 * checks that the comparison fails against the reference of a slightly
 * different configuration (a weight 1% off, one old class fewer, other
 * SGC groups, no prototypes ...).
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Effect, Result, Scope } from "effect";
import { grad, type Node, parameter } from "../../src/autograd/tape.ts";
import { GSC_DEFAULTS, parseTrainOptions } from "../../src/cli/mod.ts";
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
import { makeMethod } from "../../src/incremental/methods/mod.ts";
import { quantilePortion, quantileThresholds } from "../../src/incremental/gsc/mod.ts";
import { medianThresholds } from "../../src/incremental/losses/mod.ts";
import { classificationLoss, totalLoss } from "../../src/incremental/train_batch.ts";
import {
  crossEntropyClassification,
  unbiasedClassification,
} from "../../src/incremental/methods/classification.ts";
import type { RunConfig } from "../../src/incremental/types.ts";
import {
  entropyHistogramReference,
  type Nhwc,
  plopEntropyReference,
} from "../../src/ops/reference/incremental.ts";
import {
  type BatchReference,
  classificationReference,
  ftObjectiveReference,
  iltObjectiveReference,
  lwfObjectiveReference,
  mibObjectiveReference,
  type ObjectiveReference,
  type OutputsReference,
  type PartReference,
  plopObjectiveReference,
  type StepReference,
} from "../../src/ops/reference/methods.ts";
import {
  gscHistogramReference,
  gscObjectiveReference,
  gscPrototypesReference,
  gscPseudoLogitsReference,
  type GscReferenceOptions,
  type PrototypesReference,
} from "../../src/ops/reference/gsc_objective.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";

const TASK = findTask("synthetic/2-2") as ClassTask;
const N = 2;
const H = 6;
const W = 5;
/** Backbone stages and the head's features, at their own sizes (every one fits local POD). */
const STAGE_SHAPES: readonly Nhwc[] = [[N, 6, 6, 2], [N, 4, 4, 3]];
const FEATURE_SHAPE: Nhwc = [N, 4, 5, 3];
/** The logits before upsampling (channels: the model's classes). */
const SMALL_SIZE = [4, 4] as const;
/** PLOP's histogram bins (src/incremental/methods/plop.ts). */
const ENTROPY_BINS = 100;

/**
 * Tolerance of every comparison: REL times the largest |expected| of the
 * tensor (or scalar) compared; a tensor expected to be all zero must be
 * exactly zero. The f32 kernels' worst error seen here is 5.2e-7 of that
 * scale (the prototypes, SSRD's gradient); the nearest negative control
 * (lambdaSoft 1 -> 1.01 on SSRD) is off by 2.7e-3.
 */
const REL = 2e-5;

const config = (method: string, ...extra: string[]): RunConfig => {
  const argv = ["--dataset", "synth", "--task", "2-2", "--method", method, ...extra];
  const parsed = parseTrainOptions(argv);
  if (!Result.isSuccess(parsed)) throw new Error(`options must parse: ${argv.join(" ")}`);
  return parsed.success.config;
};

/** Step t's StepInfo, as the engine's `stepInfo` builds it. */
const stepInfo = (c: RunConfig, t: number): StepInfo => {
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

const referenceStep = (info: StepInfo): StepReference => ({
  step: info.step,
  seen: info.seen,
  old: info.old,
  added: info.current.length,
  classStep: info.classStep,
});

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

const floats = (rng: SeededRng, n: number, lo: number, hi: number) =>
  Float32Array.from({ length: n }, () => rng.uniform(lo, hi));

/** How an old model's logits lean: each pixel favours one class by a margin in [lo, hi). */
type Lean = readonly [lo: number, hi: number];

/**
 * Logits of `channels`: uniform in [-2, 2), or, leaning, in [-1, 1) with one
 * class per pixel raised by the lean's margin. The old model's default lean
 * [1.5, 7) spreads PLOP's normalised entropies over about [0.003, 0.16].
 */
const logitsOf = (rng: SeededRng, channels: number, lean: Lean | undefined) => {
  const z = floats(rng, N * H * W * channels, lean ? -1 : -2, lean ? 1 : 2);
  if (lean) {
    for (let p = 0; p < N * H * W; p++) {
      z[p * channels + rng.int(0, channels - 1)] += rng.uniform(lean[0], lean[1]);
    }
  }
  return z;
};

/** `small` draws the logits before upsampling, so the other draws stay as they were. */
const outputsOf = (rng: SeededRng, small: SeededRng, channels: number, lean?: Lean): Outputs => ({
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
const labelsOf = (rng: SeededRng, info: StepInfo) =>
  Int32Array.from({ length: N * H * W }, () => {
    const r = rng.float();
    if (r < 0.1) return 255;
    if (r < 0.45) return 0;
    if (r < 0.6 && info.old > 1) return rng.int(1, info.old - 1);
    return info.current[rng.int(0, info.current.length - 1)];
  });

/** Outputs and labels held as the f32 / i32 arrays the GPU receives. */
interface Outputs extends OutputsReference {
  readonly logits: Float32Array;
  readonly features: Float32Array;
  readonly stages: readonly Float32Array[];
  readonly smallLogits: Float32Array;
  readonly smallLogitsShape: Nhwc;
}

interface Batch extends BatchReference {
  readonly labels: Int32Array;
}

interface Fixture {
  readonly batch: Batch;
  readonly current: Outputs;
  readonly old: Outputs | undefined;
}

/** A batch of step t with the new and (after step 0) old outputs; `background`: every label 0. */
const fixtureOf = (
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

const uploadBatch = (b: Batch) =>
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
const uploadNew = (o: Outputs, channels: number) =>
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

const uploadOld = (o: Outputs, channels: number) =>
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
const memoryPass = (info: StepInfo, batches: readonly Fixture[]): DataPass => ({
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
interface GotPart {
  readonly value: number;
  readonly logits: Float32Array;
  readonly features: Float32Array;
  readonly stages: Float32Array[];
  readonly smallLogits: Float32Array;
}

/** What the method's objective gave, read back. */
interface Got {
  readonly classification: string;
  readonly terms: readonly string[];
  readonly targets: Int32Array;
  readonly pixelWeights: Float32Array | undefined;
  readonly parts: Readonly<Record<string, GotPart>>;
  readonly total: GotPart;
}

/** Runs `method.objective` on a fixture and reads back every part and its gradients. */
const runObjective = (method: Method, info: StepInfo, f: Fixture) =>
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

const maxAbs = (xs: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < xs.length; i++) m = Math.max(m, Math.abs(xs[i]));
  return m;
};

/** |got - want| <= REL * max |want| over the tensor (exactly 0 where want is all 0). */
const near = (got: ArrayLike<number>, want: ArrayLike<number>, label: string) =>
  assertClose(got, want, REL * maxAbs(want), 0, label);

const comparePart = (got: GotPart, want: PartReference, label: string) => {
  near([got.value], [want.value], `${label} value`);
  near(got.logits, want.logits, `${label} d/dlogits`);
  near(got.features, want.features, `${label} d/dfeatures`);
  assertEquals(got.stages.length, want.stages.length);
  got.stages.forEach((s, l) => near(s, want.stages[l], `${label} d/dstage${l}`));
  near(got.smallLogits, want.smallLogits, `${label} d/dsmallLogits`);
};

/** Throws unless the objective matches the reference part by part. */
const compare = (got: Got, want: ObjectiveReference, label: string) => {
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
const mustThrow = (check: () => void, label: string) => {
  try {
    check();
  } catch {
    return;
  }
  throw new Error(`${label}: the comparison did not tell the two apart`);
};

/** The comparison must fail against a reference that differs (a negative control). */
const mustDiffer = (got: Got, other: ObjectiveReference, label: string) =>
  mustThrow(() => compare(got, other, label), label);

/** The same for one part (same structure, other values). */
const partsDiffer = (got: GotPart, other: PartReference, label: string) =>
  mustThrow(() => comparePart(got, other, label), label);

const STEPS = [0, 1, 2];

Deno.test("fine-tuning: cross-entropy on the labels at every step", gpuTestOptions, async () => {
  await runGpu(Effect.gen(function* () {
    const c = config("ft");
    const method = makeMethod(c, yield* Scope.make());
    for (const t of STEPS) {
      const info = stepInfo(c, t);
      const f = fixtureOf(info, 11, "ft");
      const got = yield* runObjective(method, info, f);
      const step = referenceStep(info);
      compare(got, ftObjectiveReference(step, f.batch, f.current), `ft step ${t}`);
      // Control: MiB's unbiased cross-entropy has other values once there are old classes.
      if (t > 0) {
        const unbiased = classificationReference(step, f.current, f.batch.labels, "unbiased-ce");
        partsDiffer(got.parts.classification, unbiased, `ft step ${t} vs unbiased ce`);
      }
    }
  }));
});

Deno.test("LwF: cross-entropy plus kdWeight x distillation", gpuTestOptions, async () => {
  await runGpu(Effect.gen(function* () {
    const c = config("lwf");
    assertEquals(c.kdWeight, 100);
    const method = makeMethod(c, yield* Scope.make());
    for (const t of STEPS) {
      const info = stepInfo(c, t);
      const f = fixtureOf(info, 12, "lwf");
      const got = yield* runObjective(method, info, f);
      const step = referenceStep(info);
      compare(got, lwfObjectiveReference(step, f.batch, f.current, f.old, c), `lwf step ${t}`);
      if (t > 0) {
        const heavier = { kdWeight: c.kdWeight * 1.01 };
        mustDiffer(got, lwfObjectiveReference(step, f.batch, f.current, f.old, heavier), "lwf kd");
      }
    }
  }));
});

Deno.test(
  "ILT: LwF plus featureWeight x MSE of the last stage (no gradient to the others)",
  gpuTestOptions,
  async () => {
    await runGpu(Effect.gen(function* () {
      // The default weights are both 100: another feature weight tells the two terms apart.
      const c = config("ilt", "--feature-weight", "40");
      assertEquals([c.kdWeight, c.featureWeight], [100, 40]);
      const method = makeMethod(c, yield* Scope.make());
      for (const t of STEPS) {
        const info = stepInfo(c, t);
        const f = fixtureOf(info, 13, "ilt");
        const got = yield* runObjective(method, info, f);
        const step = referenceStep(info);
        const want = iltObjectiveReference(step, f.batch, f.current, f.old, c);
        compare(got, want, `ilt step ${t}`);
        if (t > 0) {
          const other = { ...c, featureWeight: c.featureWeight * 1.01 };
          const heavier = iltObjectiveReference(step, f.batch, f.current, f.old, other);
          mustDiffer(got, heavier, "ilt feature weight");
        }
      }
    }));
  },
);

Deno.test(
  "MiB: unbiased cross-entropy plus kdWeight x unbiased distillation",
  gpuTestOptions,
  async () => {
    await runGpu(Effect.gen(function* () {
      const c = config("mib");
      assertEquals(c.kdWeight, 10);
      const method = makeMethod(c, yield* Scope.make());
      for (const t of STEPS) {
        const info = stepInfo(c, t);
        const f = fixtureOf(info, 14, "mib");
        const got = yield* runObjective(method, info, f);
        const step = referenceStep(info);
        compare(got, mibObjectiveReference(step, f.batch, f.current, f.old, c), `mib step ${t}`);
        if (t > 0) {
          // Control: the old class count one lower (an old class taken for a new one).
          const fewer = { ...step, old: step.old - 1, added: step.added + 1 };
          const shifted = classificationReference(fewer, f.current, f.batch.labels, "unbiased-ce");
          partsDiffer(got.parts.classification, shifted, "mib old classes");
          const heavier = { kdWeight: c.kdWeight * 1.01 };
          mustDiffer(
            got,
            mibObjectiveReference(step, f.batch, f.current, f.old, heavier),
            "mib kd",
          );
        }
      }
    }));
  },
);

/** PLOP's thresholds from a pass: the reference histogram through PLOP's median rule. */
const plopThresholds = (info: StepInfo, pass: readonly Fixture[]) => {
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
const checkPlopMargins = (info: StepInfo, f: Fixture, thresholds: ArrayLike<number>) => {
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

Deno.test(
  "PLOP: pseudo labels from its pass's thresholds, weighted cross-entropy and local POD with the logits",
  gpuTestOptions,
  async () => {
    await runGpu(Effect.gen(function* () {
      const c = config("plop");
      assertEquals(c.podFactor, 0.01);
      const method = makeMethod(c, yield* Scope.make());
      for (const t of STEPS) {
        const info = stepInfo(c, t);
        const step = referenceStep(info);
        const f = fixtureOf(info, 15, "plop", [2.8, 4.2]);
        let thresholds: ArrayLike<number> | undefined;
        if (t > 0) {
          // The engine's order: beginStep (the thresholds pass) before the step's batches.
          // PLOP's median rule walks the bins adding each bin's index, not its count: with
          // a few dozen pixels a class it only stops in a bin holding most of them (else
          // the threshold is the 0.001 floor). The pass is all background and its old
          // model leans by 3.4 to 3.7, which puts each class's entropies in two or three
          // bins near 0.03 to 0.05.
          const lean: Lean = [3.4, 3.7];
          const pass = [0, 1].map((k) => fixtureOf(info, 15, `plop-pass-${k}`, lean, true));
          yield* method.beginStep!(info, memoryPass(info, pass));
          thresholds = plopThresholds(info, pass);
          checkPlopMargins(info, f, thresholds);
        }
        const got = yield* runObjective(method, info, f);
        const want = plopObjectiveReference(step, f.batch, f.current, f.old, thresholds, c);
        compare(got, want, `plop step ${t}`);
        if (t > 0) {
          const heavier = { podFactor: c.podFactor * 1.01 };
          const pod = plopObjectiveReference(step, f.batch, f.current, f.old, thresholds, heavier);
          mustDiffer(got, pod, "plop pod factor");
          const looser = Array.from(thresholds!, (x) => x * 1.5);
          const loose = plopObjectiveReference(step, f.batch, f.current, f.old, looser, c);
          mustDiffer(got, loose, "plop thresholds");
          // PLOP's POD includes the logits before upsampling (its sixth layer here).
          const fiveLayers = { ...f.current, smallLogits: undefined };
          const noLogits = plopObjectiveReference(step, f.batch, fiveLayers, f.old, thresholds, c);
          const [withLogits, without] = [got.parts.pod.value, noLogits.parts.pod.value];
          if (!(Math.abs(withLogits - without) > 100 * REL * Math.abs(without))) {
            throw new Error(`plop pod: ${withLogits} with the logits layer, ${without} without`);
          }
        }
      }
    }));
  },
);

Deno.test(
  "GSC with SGC, SSRD and PPR off is PLOP bit for bit at steps 0-2",
  gpuTestOptions,
  async () => {
    await runGpu(Effect.gen(function* () {
      const c = config("gsc", "--no-sgc", "--no-ssrd", "--no-ppr");
      assertEquals(c.podFactor, config("plop").podFactor);
      const off = makeMethod(c, yield* Scope.make());
      const plop = makeMethod(config("plop"), yield* Scope.make());
      for (const t of STEPS) {
        const info = stepInfo(c, t);
        const f = fixtureOf(info, 15, "gsc-off", [2.8, 4.2]);
        let thresholds: ArrayLike<number> | undefined;
        if (t > 0) {
          const pass = [0, 1].map((k) => fixtureOf(info, 15, `gsc-off-pass-${k}`, PASS_LEAN, true));
          yield* off.beginStep!(info, memoryPass(info, pass));
          yield* plop.beginStep!(info, memoryPass(info, pass));
          thresholds = plopThresholds(info, pass);
        }
        const a = yield* runObjective(off, info, f);
        const b = yield* runObjective(plop, info, f);
        assertEquals(a, b);
        const want = plopObjectiveReference(
          referenceStep(info),
          f.batch,
          f.current,
          f.old,
          thresholds,
          c,
        );
        compare(a, want, `gsc off step ${t}`);
        if (t > 0) {
          mustDiffer(a, ftObjectiveReference(referenceStep(info), f.batch, f.current), "not FT");
        }
      }
    }));
  },
);

/** The pass's old model leans as PLOP's test's does (its thresholds stop inside the bins). */
const PASS_LEAN: Lean = [3.4, 3.7];

/** GSC's thresholds from a pass (reference histogram of PPR's logits), checked off the bin edges. */
const gscThresholds = (
  info: StepInfo,
  pass: readonly Fixture[],
  stored: PrototypesReference | undefined,
  options: GscReferenceOptions & { readonly pprQuantile: boolean },
) => {
  const step = referenceStep(info);
  for (const f of pass) {
    const logits = gscPseudoLogitsReference(step, f.batch, f.old!, stored, options);
    f.batch.labels.forEach((y, p) => {
      if (y !== 0) return;
      const e = plopEntropyReference(logits, p, info.old, info.seen).entropy * ENTROPY_BINS;
      if (Math.abs(e - Math.round(e)) < 1e-5) throw new Error(`pixel ${p} on a bin edge: ${e}`);
    });
  }
  const batches = pass.map((f) => ({ batch: f.batch, old: f.old! }));
  const histogram = gscHistogramReference(step, batches, stored, options, ENTROPY_BINS);
  return options.pprQuantile
    ? quantileThresholds(histogram, ENTROPY_BINS, info.old, quantilePortion(0))
    : medianThresholds(histogram, ENTROPY_BINS, info.old);
};

/** No background pixel of `f` sits within 1e-5 of its class threshold under GSC's posterior. */
const checkGscMargins = (
  info: StepInfo,
  f: Fixture,
  stored: PrototypesReference | undefined,
  thresholds: ArrayLike<number>,
  options: GscReferenceOptions,
  outcomes: { confident: number; unsure: number },
) => {
  const logits = gscPseudoLogitsReference(referenceStep(info), f.batch, f.old!, stored, options);
  f.batch.labels.forEach((y, p) => {
    if (!(y >= 0 && y < info.old)) return;
    const { entropy, argmax } = plopEntropyReference(logits, p, info.old, info.seen);
    const margin = entropy - thresholds[argmax];
    if (Math.abs(margin) < 1e-5) throw new Error(`pixel ${p} on its threshold: ${margin}`);
    if (margin < 0) outcomes.confident++;
    else outcomes.unsure++;
  });
};

/** GSC's stored prototypes, read back through `exportState`, against the reference. */
const comparePrototypes = (method: Method, want: PrototypesReference, label: string) =>
  Effect.gen(function* () {
    const state = yield* method.exportState!();
    const prototypes = state.tensors["gsc.prototypes"];
    const valid = state.tensors["gsc.prototypes_valid"];
    assertEquals(prototypes.shape, [want.classes, want.features], `${label}: shape`);
    near(prototypes.data, want.prototypes, `${label}: prototypes`);
    assertEquals([...valid.data], Array.from(want.valid), `${label}: valid`);
  });

/** One step of a GSC run as the engine drives it, with what was compared. */
interface GscStep {
  readonly info: StepInfo;
  readonly fixture: Fixture;
  readonly got: Got;
  /** The prototypes and thresholds the step's objective used (the reference's). */
  readonly stored: PrototypesReference | undefined;
  readonly thresholds: ArrayLike<number> | undefined;
  /** The thresholds pass (empty at step 0). */
  readonly pass: readonly Fixture[];
}

/**
 * Steps 0, 1 and 2 of GSC as the engine runs them: beginStep's thresholds
 * pass (after step 0), the step's objective on a batch, then endStep's
 * prototype pass over two in-memory batches. Each objective is compared
 * with the reference fed the reference's own prototypes and thresholds; the
 * prototypes GSC keeps are compared too.
 */
const gscRun = (c: RunConfig, seed: number, tag: string) =>
  Effect.gen(function* () {
    const method = makeMethod(c, yield* Scope.make());
    const steps: GscStep[] = [];
    const outcomes = { confident: 0, unsure: 0 };
    let stored: PrototypesReference | undefined;
    for (const t of STEPS) {
      const info = stepInfo(c, t);
      const step = referenceStep(info);
      let thresholds: ArrayLike<number> | undefined;
      let thresholdsPass: Fixture[] = [];
      if (t > 0) {
        const pass = [0, 1].map((k) => fixtureOf(info, seed, `${tag}-pass-${k}`, PASS_LEAN, true));
        thresholdsPass = pass;
        yield* method.beginStep!(info, memoryPass(info, pass));
        thresholds = gscThresholds(info, pass, stored, c.gsc);
      }
      const f = fixtureOf(info, seed, tag, [2.8, 4.2]);
      if (thresholds) checkGscMargins(info, f, stored, thresholds, c.gsc, outcomes);
      const got = yield* runObjective(method, info, f);
      const want = gscObjectiveReference(
        step,
        f.batch,
        f.current,
        f.old,
        stored,
        thresholds,
        c.gsc,
        c,
      );
      compare(got, want, `${tag} step ${t}`);
      steps.push({ info, fixture: f, got, stored, thresholds, pass: thresholdsPass });
      if (t === STEPS.length - 1 || !c.gsc.ppr) continue;
      const pass = [0, 1].map((k) => fixtureOf(info, seed, `${tag}-end-${k}`, [2.8, 4.2]));
      if (thresholds) {
        for (const b of pass) checkGscMargins(info, b, stored, thresholds, c.gsc, outcomes);
      }
      yield* method.endStep!(info, memoryPass(info, pass));
      stored = gscPrototypesReference(step, pass, stored, thresholds, c.gsc);
      yield* comparePrototypes(method, stored, `${tag} prototypes after step ${t}`);
    }
    // The fixtures exercise both outcomes of the filter.
    if (outcomes.confident === 0 || outcomes.unsure === 0) {
      throw new Error(JSON.stringify(outcomes));
    }
    return steps;
  });

Deno.test(
  "GSC: PLOP with PPR's pseudo labels, SGC weights and SSRD at steps 0-2, prototypes from its passes",
  gpuTestOptions,
  async () => {
    await runGpu(Effect.gen(function* () {
      const c = config("gsc");
      assertEquals(c.gsc, GSC_DEFAULTS);
      assertEquals(c.podFactor, 0.01);
      const steps = yield* gscRun(c, 17, "gsc");
      for (const { info, fixture: f, got, stored, thresholds, pass } of steps.slice(1)) {
        const step = referenceStep(info);
        const want = (s: StepReference, o: GscReferenceOptions, st = stored) =>
          gscObjectiveReference(s, f.batch, f.current, f.old, st, thresholds, o, c);
        const label = `gsc step ${info.step}`;
        const g = c.gsc;
        mustDiffer(got, want(step, { ...g, lambdaSoft: g.lambdaSoft * 1.01 }), `${label} soft`);
        mustDiffer(
          got,
          want(step, { ...g, lambdaEntropy: g.lambdaEntropy * 1.01 }),
          `${label} entropy`,
        );
        mustDiffer(got, want(step, { ...g, sgcMax: 1 }), `${label} clamp`);
        mustDiffer(got, want(step, { ...g, sgc: false }), `${label} without SGC`);
        if (stored) {
          // A sharper prototype softmax, its thresholds from the same pass.
          const sharp = { ...g, pprTau: g.pprTau / 4 };
          const tauThresholds = gscThresholds(info, pass, stored, sharp);
          const tau = gscObjectiveReference(
            step,
            f.batch,
            f.current,
            f.old,
            stored,
            tauThresholds,
            sharp,
            c,
          );
          mustDiffer(got, tau, `${label} tau`);
          // PLOP's pseudo labels: the old posterior for the thresholds and the labels.
          const plain = gscThresholds(info, pass, undefined, g);
          const noPpr = gscObjectiveReference(
            step,
            f.batch,
            f.current,
            f.old,
            undefined,
            plain,
            g,
            c,
          );
          mustDiffer(got, noPpr, `${label} without prototypes`);
        }
        // SGC: one group for every old class instead of one per old step.
        const merged = Array.from(info.classStep, (k) => (k < info.step ? 0 : k));
        if (info.step === 2) {
          mustDiffer(got, want({ ...step, classStep: merged }, g), `${label} groups`);
        }
      }
      // The same step 2 with the prototypes set through importState (a resumed run).
      const last = steps[2];
      const resumed = makeMethod(c, yield* Scope.make());
      const p = last.stored!;
      yield* resumed.importState!({
        tensors: {
          "gsc.prototypes": {
            shape: [p.classes, p.features],
            data: Float32Array.from(p.prototypes),
          },
          "gsc.prototypes_valid": { shape: [p.classes], data: Float32Array.from(p.valid) },
        },
        json: { prototypes: true },
      });
      const pass = [0, 1].map((k) => fixtureOf(last.info, 17, `gsc-pass-${k}`, PASS_LEAN, true));
      yield* resumed.beginStep!(last.info, memoryPass(last.info, pass));
      const again = yield* runObjective(resumed, last.info, last.fixture);
      const f = last.fixture;
      const step = referenceStep(last.info);
      const want = gscObjectiveReference(
        step,
        f.batch,
        f.current,
        f.old,
        p,
        last.thresholds,
        c.gsc,
        c,
      );
      compare(again, want, "gsc step 2 after importState");
    }));
  },
);

Deno.test(
  "GSC: each part alone (SGC, SSRD, PPR) and the variants (HFC's split, FISS's quantiles) at steps 0-2",
  gpuTestOptions,
  async () => {
    await runGpu(Effect.gen(function* () {
      const runs = {
        "sgc alone": ["--no-ssrd", "--no-ppr"],
        "ssrd alone": ["--no-sgc", "--no-ppr"],
        "ppr alone": ["--no-sgc", "--no-ssrd"],
        "split": ["--sgc-split"],
        "quantile": ["--ppr-quantile"],
      };
      for (const [name, flags] of Object.entries(runs)) {
        const c = config("gsc", ...flags);
        const steps = yield* gscRun(c, 18, `gsc ${name}`);
        // Control: the full method's reference differs from each run (the quantile variant's
        // thresholds are tested in gsc/thresholds_test.ts: on these fixtures they keep the
        // median's labels).
        if (name === "quantile") continue;
        const { info, fixture: f, got, stored, thresholds } = steps[2];
        const step = referenceStep(info);
        const full = gscObjectiveReference(
          step,
          f.batch,
          f.current,
          f.old,
          stored,
          thresholds,
          GSC_DEFAULTS,
          c,
        );
        mustDiffer(got, full, `gsc ${name} vs full`);
      }
    }));
  },
);

const classificationLosses = {
  "ce": crossEntropyClassification,
  "unbiased-ce": unbiasedClassification,
} as const;

Deno.test(
  "the engine's classification loss: weighted, unbiased with old classes, times its scale",
  gpuTestOptions,
  async () => {
    // No method asks for a classification scale today; the engine's loss still honours it.
    await runGpu(Effect.gen(function* () {
      const info = stepInfo(config("mib"), 1);
      const f = fixtureOf(info, 19, "scale");
      const rng = new SeededRng(19, "scale-weights");
      const weights = floats(rng, N * H * W, 0.5, 2);
      const batch = yield* uploadBatch(f.batch);
      const current = yield* uploadNew(f.current, info.seen);
      const factor = 0.37;
      for (const classification of ["ce", "unbiased-ce"] as const) {
        const objective = {
          targets: batch.labels,
          classification: classificationLosses[classification],
          pixelWeights: yield* fromArray(weights, [N, H, W], "f32"),
          classificationScale: yield* fromArray([factor], [1], "f32"),
          terms: [],
        };
        const loss = yield* classificationLoss(info, current.outputs.logits, objective);
        const [dz] = yield* grad(loss, [current.outputs.logits]);
        const step = referenceStep(info);
        const want = classificationReference(
          step,
          f.current,
          f.batch.labels,
          classification,
          weights,
        );
        near([(yield* download(loss.value))[0]], [factor * want.value], `${classification} value`);
        near(yield* download(dz), want.logits.map((g) => factor * g), `${classification} d/dz`);
        const unscaled = yield* classificationLoss(info, current.outputs.logits, {
          ...objective,
          classificationScale: undefined,
        });
        near([(yield* download(unscaled.value))[0]], [want.value], `${classification} unscaled`);
      }
    }));
  },
);
