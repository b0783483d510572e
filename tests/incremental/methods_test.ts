/**
 * The methods behind the engine's one interface: with all three parts off
 * GSC's objective is fine-tuning's (same targets, no weights, no terms,
 * the same loss and gradient); MiB asks for the unbiased cross-entropy and
 * adds its distillation; GSC's full objective changes the loss only after
 * step 0.
 */
import {
  deepStrictEqual as assertEquals,
  notDeepStrictEqual as assertNotEquals,
} from "node:assert/strict";
import { Effect, Scope } from "effect";
import { parameter } from "../../src/autograd/tape.ts";
import { grad } from "../../src/autograd/tape.ts";
import { SeededRng } from "../../src/data/rng.ts";
import { GSC_DEFAULTS, parseTrainOptions } from "../../src/cli/mod.ts";
import { classStepTable, type StepInfo } from "../../src/incremental/method.ts";
import { fineTuning, gsc, mib } from "../../src/incremental/methods/mod.ts";
import { totalLoss } from "../../src/incremental/train_batch.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { Result } from "effect";

const N = 2;
const H = 5;
const W = 3;
const STEPS = [[0, 1, 2], [3], [4]];

const config = () => {
  const parsed = parseTrainOptions(["--dataset", "synth", "--task", "15-1", "--method", "gsc"]);
  if (!Result.isSuccess(parsed)) throw new Error("default options must parse");
  return parsed.success.config;
};

const info = (step: number): StepInfo => {
  const seen = STEPS.slice(0, step + 1).flat().length;
  const old = STEPS.slice(0, step).flat().length;
  return {
    step,
    steps: STEPS.length,
    seen,
    old,
    current: STEPS[step],
    classStep: classStepTable(STEPS, step),
    config: config(),
  };
};

/** A batch at step t: random logits for the new and old model, labels of the step. */
const batchAt = (t: number, seed: number) =>
  Effect.gen(function* () {
    const rng = new SeededRng(seed);
    const i = info(t);
    const pixels = N * H * W;
    const logits = Float32Array.from({ length: pixels * i.seen }, () => rng.uniform(-2, 2));
    const oldLogits = Float32Array.from({ length: pixels * Math.max(i.old, 1) }, () =>
      rng.uniform(-2, 2));
    const labels = Int32Array.from({ length: pixels }, () => {
      const r = rng.float();
      return r < 0.1 ? 255 : r < 0.6 ? 0 : i.current[rng.int(0, i.current.length - 1)];
    });
    const z = parameter(yield* fromArray(logits, [N, H, W, i.seen], "f32"), "z");
    const batch = {
      images: yield* fromArray(new Float32Array(pixels * 3), [N, H, W, 3], "f32"),
      labels: yield* fromArray(labels, [N, H, W], "i32"),
      size: N,
      height: H,
      width: W,
    };
    const old = {
      logits: yield* fromArray(oldLogits, [N, H, W, Math.max(i.old, 1)], "f32"),
      features: yield* fromArray(new Float32Array(pixels * 4).fill(1), [N, H, W, 4], "f32"),
      stages: [],
    };
    return { i, z, batch, old };
  });

/** Loss and logits gradient of a method's objective. */
const lossAndGradient = (
  method: ReturnType<typeof fineTuning>,
  t: number,
  seed: number,
) =>
  Effect.gen(function* () {
    const { i, z, batch, old } = yield* batchAt(t, seed);
    const current = { logits: z, features: z, stages: [] };
    const objective = yield* method.objective(i, batch, current, t > 0 ? old : undefined);
    const loss = yield* totalLoss(i, z, objective);
    const [dz] = yield* grad(loss, [z]);
    return { loss: (yield* download(loss.value))[0], dz: yield* download(dz), objective };
  });

Deno.test("GSC with SGC, SSRD and PPR off is fine-tuning exactly", gpuTestOptions, async () => {
  await runGpu(Effect.gen(function* () {
    const scope = yield* Scope.make();
    const off = gsc({ ...GSC_DEFAULTS, sgc: false, ssrd: false, ppr: false }, scope);
    for (const t of [0, 1, 2]) {
      const a = yield* lossAndGradient(off, t, 7 + t);
      const b = yield* lossAndGradient(fineTuning(), t, 7 + t);
      assertEquals(a.objective.pixelWeights, undefined);
      assertEquals(a.objective.terms.length, 0);
      assertEquals(a.loss, b.loss);
      assertEquals([...a.dz], [...b.dz]);
    }
  }));
});

Deno.test("full GSC adds SGC weights and SSRD after step 0 only", gpuTestOptions, async () => {
  await runGpu(Effect.gen(function* () {
    const scope = yield* Scope.make();
    const full = gsc(GSC_DEFAULTS, scope);
    yield* full.beginStep!(info(1), undefined as never);
    const step0 = yield* lossAndGradient(full, 0, 3);
    const ft0 = yield* lossAndGradient(fineTuning(), 0, 3);
    assertEquals(step0.loss, ft0.loss);
    const step1 = yield* lossAndGradient(full, 1, 3);
    const ft1 = yield* lossAndGradient(fineTuning(), 1, 3);
    assertNotEquals(step1.loss, ft1.loss);
    assertEquals(step1.objective.terms.map((term) => term.name), ["ssrd"]);
    assertNotEquals(step1.objective.pixelWeights, undefined);
  }));
});

Deno.test(
  "MiB asks for the unbiased cross-entropy and adds its distillation",
  gpuTestOptions,
  async () => {
    await runGpu(Effect.gen(function* () {
      const method = mib({ ...config(), method: "mib", kdWeight: 10 });
      const r = yield* lossAndGradient(method, 1, 5);
      assertEquals(r.objective.classification, "unbiased-ce");
      assertEquals(r.objective.terms.map((term) => term.name), ["unbiased-kd"]);
    }));
  },
);
