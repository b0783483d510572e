/**
 * PLOP's POD in the engine's objective (src/incremental/methods/plop.ts)
 * distils six layers, as PLOP's VOC default (`--pod_logits`) does: the four
 * backbone stages and the head's output at 0.01, and the logits before
 * upsampling at 0.0005 with the new classes' logits summed into
 * background, each scaled by sqrt(|C_{0:t}| / |C_t|), averaged over six.
 *
 * Real models (the small DeepLabV3 at output stride 8) run a fixed batch
 * of two 32x32 images at step 1 of synthetic/2-2 (3 old classes, 2 new);
 * the objective's `pod` term must equal `plopLocalPod` given all six layers
 * of those outputs, and the float64 reference over the same six maps, and
 * must differ from the five-layer POD that leaves the logits out.
 */
import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { Effect, Result, Scope } from "effect";
import { parseTrainOptions } from "../../src/cli/mod.ts";
import { type ClassTask, findTask, stepClasses } from "../../src/data/mod.ts";
import { PLOP_LOGITS_FACTOR, plopLocalPod } from "../../src/incremental/losses/mod.ts";
import { classStepTable, type DataPass, type StepInfo } from "../../src/incremental/method.ts";
import { plop } from "../../src/incremental/methods/plop.ts";
import { modelConfigFor } from "../../src/incremental/model_config.ts";
import { asOldOutputs } from "../../src/incremental/train_batch.ts";
import { makeDeepLabV3 } from "../../src/nn/mod.ts";
import { collapseNewLogitsReference, localPodReference, type Nhwc } from "../reference/plop.ts";
import { download, fromArray, type Tensor } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";

const TASK = findTask("synthetic/2-2") as ClassTask;
const N = 2;
const SIZE = 32;

const parsed = parseTrainOptions([
  "--dataset",
  "synth",
  "--task",
  "2-2",
  "--method",
  "plop",
  "--crop",
  String(SIZE),
]);
if (!Result.isSuccess(parsed)) throw new Error("options must parse");
const config = parsed.success.config;

const info: StepInfo = (() => {
  const classes = stepClasses(TASK, 1);
  return {
    step: 1,
    steps: TASK.steps.length,
    seen: classes.old.length + classes.current.length,
    old: classes.old.length,
    current: classes.current,
    classStep: classStepTable(TASK.steps, 1),
    config,
  };
})();

const hostOf = (t: Tensor<"f32">) =>
  Effect.map(download(t), (data) => ({ data: Array.from(data), shape: t.shape as Nhwc }));

Deno.test(
  "PLOP's objective distils six layers: 4 stages + head output at 0.01, the small logits at 0.0005",
  gpuTestOptions,
  async () => {
    assertEquals([info.old, info.seen, info.current.length], [3, 5, 2]);
    assertEquals(config.podFactor, 0.01);
    assertEquals(PLOP_LOGITS_FACTOR, 0.0005);
    const out = await runGpu(Effect.gen(function* () {
      const scope = yield* Effect.scope;
      const model = yield* makeDeepLabV3(modelConfigFor(config, info.seen), { seed: 11, scope });
      const oldModel = yield* makeDeepLabV3(modelConfigFor(config, info.old), {
        seed: 12,
        trainable: false,
        scope,
      });
      const images = yield* fromArray(
        Float32Array.from({ length: N * SIZE * SIZE * 3 }, (_, i) => Math.sin(0.37 * i) * 1.5),
        [N, SIZE, SIZE, 3],
        "f32",
      );
      const labels = yield* fromArray(
        Int32Array.from({ length: N * SIZE * SIZE }, (_, i) => (i % 7 === 0 ? 3 : 0)),
        [N, SIZE, SIZE],
        "i32",
      );
      const batch = { images, labels, size: N, height: SIZE, width: SIZE };
      const current = yield* model.forward(images, { mode: "train" });
      const old = asOldOutputs(yield* oldModel.forward(images, { mode: "eval" }));
      const method = plop(config, yield* Scope.make());
      const pass: DataPass = {
        withOldModel: (visit) => Effect.scoped(visit(batch, old)),
        withBothModels: () => Effect.void,
      };
      yield* method.beginStep!(info, pass);
      const objective = yield* method.objective(info, batch, current, old);
      const pod = objective.terms.find((t) => t.name === "pod");
      ok(pod, `terms: ${objective.terms.map((t) => t.name).join(", ")}`);
      const inputs = {
        newStages: [...current.stages, current.features],
        oldStages: [...old.stages, old.features],
        oldClasses: info.old,
        seenClasses: info.seen,
        newClasses: info.current.length,
      };
      const six = yield* plopLocalPod(
        { ...inputs, newLogits: current.smallLogits, oldLogits: old.smallLogits },
        { podFactor: 0.01, logitsFactor: 0.0005 },
      );
      const five = yield* plopLocalPod(inputs, { podFactor: 0.01 });
      // The objective's POD with --pod-logits-factor / --pod-new-logits set: the logits layer
      // at its own factor (at 0 it still counts as a layer), or on the old channels alone.
      const podWith = (options: Pick<typeof config, "podLogitsFactor" | "podNewLogits">) =>
        Effect.gen(function* () {
          const m = plop({ ...config, ...options }, yield* Scope.make());
          yield* m.beginStep!(info, pass);
          const o = yield* m.objective(info, batch, current, old);
          return (yield* download(o.terms.find((t) => t.name === "pod")!.value.value))[0];
        });
      const heavier = yield* podWith({ podLogitsFactor: 0.002 });
      const heavierDirect = yield* plopLocalPod(
        { ...inputs, newLogits: current.smallLogits, oldLogits: old.smallLogits },
        { podFactor: 0.01, logitsFactor: 0.002 },
      );
      const noLogits = yield* podWith({ podLogitsFactor: 0 });
      const trimmed = yield* podWith({ podNewLogits: "trim" });
      const newMaps = [];
      for (const n of inputs.newStages) newMaps.push(yield* hostOf(n.value));
      const oldMaps = [];
      for (const t of inputs.oldStages) oldMaps.push(yield* hostOf(t));
      return {
        pod: (yield* download(pod.value.value))[0],
        six: (yield* download(six.value))[0],
        five: (yield* download(five.value))[0],
        heavier,
        heavierDirect: (yield* download(heavierDirect.value))[0],
        noLogits,
        trimmed,
        newMaps,
        oldMaps,
        newSmall: yield* hostOf(current.smallLogits.value),
        oldSmall: yield* hostOf(old.smallLogits),
      };
    }));
    // The logits before upsampling: at the output stride (32 / 8), the models' own channels.
    assertEquals(out.newSmall.shape, [N, 4, 4, info.seen]);
    assertEquals(out.oldSmall.shape, [N, 4, 4, info.old]);
    assertEquals(out.newMaps.length, 5);
    assertClose([out.pod], [out.six], 0, 1e-6, "objective's POD vs plopLocalPod with 6 layers");
    const s = Math.sqrt(info.seen / info.current.length);
    const reference = localPodReference(
      [...out.newMaps.map((m) => m.data), collapseNewLogitsReference(out.newSmall.data, 5, 3)],
      [...out.oldMaps.map((m) => m.data), out.oldSmall.data],
      [...out.newMaps.map((m) => m.shape), [N, 4, 4, 3]],
      { weights: [0.01 * s, 0.01 * s, 0.01 * s, 0.01 * s, 0.01 * s, 0.0005 * s] },
    );
    assertClose([out.pod], [reference], 0, 1e-4, "objective's POD vs the float64 reference");
    // Leaving the logits out (five layers, the old behaviour) is told apart.
    ok(Math.abs(out.pod - out.five) > 1e-3 * Math.abs(out.five), `${out.pod} vs ${out.five}`);
    assertClose([out.heavier], [out.heavierDirect], 0, 1e-6, "--pod-logits-factor 0.002");
    ok(Math.abs(out.heavier - out.pod) > 1e-3 * Math.abs(out.pod), `${out.heavier} vs ${out.pod}`);
    // At 0 the logits add nothing, and the five other layers are still divided by six.
    assertClose([out.noLogits], [out.five * 5 / 6], 0, 1e-5, "--pod-logits-factor 0");
    // --pod-new-logits trim: the logits layer compares the old channels alone.
    const trimmedReference = localPodReference(
      [
        ...out.newMaps.map((m) => m.data),
        collapseNewLogitsReference(out.newSmall.data, 5, 3, "trim"),
      ],
      [...out.oldMaps.map((m) => m.data), out.oldSmall.data],
      [...out.newMaps.map((m) => m.shape), [N, 4, 4, 3]],
      { weights: [0.01 * s, 0.01 * s, 0.01 * s, 0.01 * s, 0.01 * s, 0.0005 * s] },
    );
    assertClose([out.trimmed], [trimmedReference], 0, 1e-4, "--pod-new-logits trim");
    ok(Math.abs(out.trimmed - out.pod) > 1e-4 * Math.abs(out.pod), `${out.trimmed} vs ${out.pod}`);
  },
);
