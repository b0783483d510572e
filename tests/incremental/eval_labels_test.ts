/**
 * Evaluation reads the confusion kernel's count of labels it could not
 * place (outside the task's classes and not 255): any such pixel fails the
 * evaluation with the split and the count, instead of an mIoU computed
 * silently over part of the split.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Effect } from "effect";
import { createLoader } from "../../src/data/loader.ts";
import { evalLut, findTask, openVoc, stepClasses, type Task } from "../../src/data/mod.ts";
import { evaluateStep } from "../../src/incremental/evaluate.ts";
import { deepLabConfig, makeDeepLabV3 } from "../../src/nn/mod.ts";
import { tempDir, writeVoc } from "../data/fixtures.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";

Deno.test(
  "labels outside the task's classes fail evaluation with split and count",
  gpuTestOptions,
  async () => {
    const dir = await tempDir();
    try {
      // 16 x 16 masks: a cycles 0, 3 (128 pixels of class 3); b has no class 3.
      await writeVoc(dir.path, "val", [
        { name: "a", classes: [0, 3] },
        { name: "b", classes: [0, 5, 255] },
      ], 16);
      const dataset = await Effect.runPromise(openVoc({ root: dir.path, split: "val" }));
      const task = findTask("voc/19-1") as Task & { kind: "class" };
      const lut = evalLut(stepClasses(task, 0));
      const broken = Uint8Array.from(lut);
      broken[3] = 30; // the task has 21 classes: 30 is neither a class nor 255
      const loader = (labelLut: Uint8Array) =>
        createLoader({
          name: "split val",
          samples: dataset.samples,
          info: dataset.info,
          batchSize: 2,
          augment: { kind: "eval", size: 16, mode: "resize" },
          seed: 0,
          labelLut,
        });
      const { good, bad } = await runGpu(Effect.gen(function* () {
        const scope = yield* Effect.scope;
        const model = yield* makeDeepLabV3(deepLabConfig("small", 16, 20), {
          seed: 1,
          trainable: false,
          scope,
        });
        const good = yield* evaluateStep(model, task, 0, loader(lut), 0);
        const bad = yield* Effect.flip(evaluateStep(model, task, 0, loader(broken), 0));
        return { good, bad };
      }));
      assertEquals(good.metrics.images, 2);
      assert(good.metrics.miouAll !== null);
      assertEquals(bad._tag, "EvaluationLabelError");
      if (bad._tag !== "EvaluationLabelError") return;
      assertEquals([bad.source, bad.step, bad.pixels, bad.classes], ["split val", 0, 128, 21]);
      assert(bad.message.startsWith("evaluation of step 0 on split val: 128 pixels have labels"));
    } finally {
      await dir.cleanup();
    }
  },
);
