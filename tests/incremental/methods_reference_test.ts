/**
 * The float64 pieces the method tests compare against: the analytic
 * gradients of local POD and of ILT's feature MSE, and every method's
 * composed objective (tests/reference/methods.ts), each checked against
 * central finite differences of its own value, on small seeded inputs. GSC
 * is checked without SGC, whose weights are constants of the backward pass
 * (as on the GPU) and so not the derivative of the weighted loss.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { SeededRng } from "../../src/util/rng.ts";
import { featureDistillationReference } from "../reference/incremental.ts";
import {
  featureDistillationBackwardReference,
  finiteDifferences,
  localPodBackwardReference,
  localPodLayerBackwardReference,
  localPodLayerReference,
  localPodReference,
  type Nhwc,
} from "../reference/plop.ts";
import {
  type BatchReference,
  ftObjectiveReference,
  iltObjectiveReference,
  lwfObjectiveReference,
  mibObjectiveReference,
  type ObjectiveReference,
  type OutputsReference,
  plopObjectiveReference,
  type StepReference,
} from "../reference/methods.ts";
import {
  gscObjectiveReference,
  type GscReferenceOptions,
  type PrototypesReference,
} from "../reference/gsc_objective.ts";
import { assertClose } from "../support/gpu.ts";

const maxAbs = (xs: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < xs.length; i++) m = Math.max(m, Math.abs(xs[i]));
  return m;
};

/** Finite differences in float64 (h = 1e-5) agree to about 1e-9 of the gradient's scale. */
const fdClose = (analytic: readonly number[], fd: readonly number[], label: string) =>
  assertClose(analytic, fd, 1e-6 * maxAbs(fd), 0, label);

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

const floats = (rng: SeededRng, n: number, lo = -1, hi = 1) =>
  Array.from({ length: n }, () => rng.uniform(lo, hi));

Deno.test("local POD: the analytic gradient equals finite differences", () => {
  const rng = new SeededRng(3, "pod");
  // 4x5 leaves the last column out at scale 4; 6x4 leaves the last two rows out.
  const shapes: Nhwc[] = [[2, 4, 5, 3], [1, 6, 4, 2], [2, 4, 4, 1]];
  for (const shape of shapes) {
    const a = floats(rng, sizeOf(shape));
    const b = floats(rng, sizeOf(shape));
    for (const prepro of ["pow", "none"] as const) {
      for (const normalize of [false, true]) {
        const options = { prepro, normalize };
        const f = (x: number[]) => localPodLayerReference(x, b, shape, options);
        const label = `[${shape}] ${prepro} normalize ${normalize}`;
        fdClose(
          localPodLayerBackwardReference(a, b, shape, options),
          finiteDifferences(f, a),
          label,
        );
      }
    }
  }
  // Layers weighted and averaged.
  const shapesL: Nhwc[] = [[1, 4, 4, 2], [1, 4, 6, 1]];
  const news = shapesL.map((s) => floats(rng, sizeOf(s)));
  const olds = shapesL.map((s) => floats(rng, sizeOf(s)));
  const options = { weights: [0.3, 2] };
  const grads = localPodBackwardReference(news, olds, shapesL, options);
  news.forEach((x, l) => {
    const f = (y: number[]) =>
      localPodReference(news.map((n, k) => (k === l ? y : n)), olds, shapesL, options);
    fdClose(grads[l], finiteDifferences(f, x), `layer ${l}`);
  });
  // Identical maps: distance 0 and no gradient.
  assertEquals(localPodLayerBackwardReference(olds[0], olds[0], shapesL[0]), Array(32).fill(0));
});

Deno.test("feature MSE: the analytic gradient equals finite differences", () => {
  const rng = new SeededRng(4, "mse");
  const a = floats(rng, 24);
  const b = floats(rng, 24);
  const f = (x: number[]) => featureDistillationReference(x, b);
  fdClose(featureDistillationBackwardReference(a, b), finiteDifferences(f, a), "mse");
});

const N = 1;
const H = 4;
const W = 4;
const STAGES: Nhwc[] = [[N, 4, 4, 2], [N, 4, 5, 2]];
const FEATURES: Nhwc = [N, 4, 6, 2];

/** Step 1 of a 3 + 2 task: old classes {0, 1, 2}, new {3, 4}. */
const STEP: StepReference = { step: 1, seen: 5, old: 3, added: 2, classStep: [0, 0, 0, 1, 1] };

const outputs = (rng: SeededRng, channels: number): OutputsReference => ({
  logits: floats(rng, N * H * W * channels, -3, 3),
  features: floats(rng, sizeOf(FEATURES)),
  featureShape: FEATURES,
  stages: STAGES.map((s) => floats(rng, sizeOf(s))),
  stageShapes: STAGES,
});

/** Which of the new outputs a finite-difference probe moves. */
type Slot = { kind: "logits" } | { kind: "features" } | { kind: "stage"; index: number };

const withSlot = (o: OutputsReference, slot: Slot, x: number[]): OutputsReference =>
  slot.kind === "logits"
    ? { ...o, logits: x }
    : slot.kind === "features"
    ? { ...o, features: x }
    : { ...o, stages: o.stages.map((s, l) => (l === slot.index ? x : s)) };

/** Checks the total's gradient with respect to every new output against finite differences. */
const checkObjective = (
  label: string,
  current: OutputsReference,
  build: (current: OutputsReference) => ObjectiveReference,
) => {
  const want = build(current);
  const slots: Slot[] = [
    { kind: "logits" },
    { kind: "features" },
    ...current.stages.map((_, index) => ({ kind: "stage" as const, index })),
  ];
  for (const slot of slots) {
    const x = Array.from(
      slot.kind === "logits"
        ? current.logits
        : slot.kind === "features"
        ? current.features
        : current.stages[slot.index],
    );
    const analytic = slot.kind === "logits"
      ? want.total.logits
      : slot.kind === "features"
      ? want.total.features
      : want.total.stages[slot.index];
    const f = (y: number[]) => build(withSlot(current, slot, y)).total.value;
    fdClose(analytic, finiteDifferences(f, x), `${label} ${JSON.stringify(slot)}`);
  }
  // The total is the sum of the parts.
  const parts = ["classification", ...want.terms].map((n) => want.parts[n].value);
  assertClose([want.total.value], [parts.reduce((a, b) => a + b, 0)], 1e-12, 1e-12, label);
};

Deno.test("method objectives: each total's gradient equals finite differences", () => {
  const rng = new SeededRng(5, "objectives");
  const labels = Array.from({ length: N * H * W }, () => {
    const r = rng.float();
    return r < 0.1 ? 255 : r < 0.4 ? 0 : r < 0.55 ? rng.int(1, 2) : rng.int(3, 4);
  });
  const batch: BatchReference = { labels, n: N, h: H, w: W };
  const current = outputs(rng, STEP.seen);
  const old = outputs(rng, STEP.old);
  checkObjective("ft", current, (o) => ftObjectiveReference(STEP, batch, o));
  checkObjective(
    "lwf",
    current,
    (o) => lwfObjectiveReference(STEP, batch, o, old, { kdWeight: 3 }),
  );
  const ilt = { kdWeight: 3, featureWeight: 5 };
  checkObjective("ilt", current, (o) => iltObjectiveReference(STEP, batch, o, old, ilt));
  checkObjective(
    "mib",
    current,
    (o) => mibObjectiveReference(STEP, batch, o, old, { kdWeight: 3 }),
  );
  const thresholds = [0.5, 0.05, 0.4];
  checkObjective(
    "plop",
    current,
    (o) => plopObjectiveReference(STEP, batch, o, old, thresholds, { podFactor: 0.7 }),
  );
  const gsc: GscReferenceOptions = {
    sgc: false,
    ssrd: true,
    ppr: true,
    pprTau: 1,
    protoMinPixels: 1,
    sgcMin: 0.5,
    sgcMax: 1.2,
    sgcSplit: false,
    lambdaSoft: 0.3,
    lambdaEntropy: 0.1,
    lambdaRelation: 0,
  };
  const stored: PrototypesReference = {
    prototypes: floats(rng, 3 * FEATURES[3]),
    valid: [1, 1, 1],
    classes: 3,
    features: FEATURES[3],
  };
  const weights = { podFactor: 0.7 };
  checkObjective(
    "gsc",
    current,
    (o) => gscObjectiveReference(STEP, batch, o, old, stored, thresholds, gsc, weights),
  );
});
