/**
 * Backbone export: a trained DeepLabV3 checkpoint becomes a torchvision ResNet
 * file (no `backbone.` prefix, no head, no optimizer state) that
 * `loadPretrained` puts back into another model's backbone bit for bit; a file
 * without a backbone fails naming it. The shipped pretrained backbone loads
 * into the synthetic benchmark's `small` model.
 */
import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { Effect, Result } from "effect";
import { exportBackbone } from "../../src/nn/backbone_export.ts";
import { CheckpointError, readCheckpoint, saveCheckpoint } from "../../src/nn/checkpoint.ts";
import { loadPretrained } from "../../src/nn/load_weights.ts";
import { deepLabConfig, makeDeepLabV3 } from "../../src/nn/mod.ts";
import { readSafetensors, writeSafetensors } from "../../src/io/safetensors.ts";
import { fromArray } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu, runGpuResult } from "../support/gpu.ts";

const dir = await Deno.makeTempDir({ prefix: "backbone_export_test" });
const config = deepLabConfig("small", 16, 4);

const build = (seed: number, classes = 4) =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope;
    return yield* makeDeepLabV3({ ...config, numClasses: classes }, { seed, scope });
  });

Deno.test(
  "export: the backbone under ResNet names loads back bit for bit",
  gpuTestOptions,
  async () => {
    await runGpu(Effect.gen(function* () {
      const model = yield* build(3);
      const images = fromArray(
        Float32Array.from({ length: 2 * 17 * 17 * 3 }, (_, i) => Math.sin(0.37 * i)),
        [2, 17, 17, 3],
        "f32",
      );
      yield* model.forward(yield* images, { mode: "train" });
      const path = `${dir}/trained.safetensors`;
      yield* saveCheckpoint(path, {
        model,
        extraTensors: { "optimizer.momentum.x": { shape: [2], data: Float32Array.of(1, 2) } },
        meta: { step: 0 },
      });
      const out = `${dir}/backbone.safetensors`;
      const count = yield* exportBackbone(path, out, { made_by: "test" });
      const file = yield* readSafetensors(out).pipe(Effect.orDie);
      assertEquals(file.tensors.size, count);
      assertEquals(file.metadata.made_by, "test");
      for (const name of file.tensors.keys()) {
        ok(!/^(backbone|classifier|optimizer|fc)\./.test(name), `exported ${name}`);
      }
      ok(file.tensors.has("conv1.weight") && file.tensors.has("layer4.0.bn2.running_var"));
      // Into a model of another seed and class count: backbone equal, head untouched.
      const other = yield* build(11, 7);
      const headBefore = (yield* other.stateDict()).get("classifier.4.weight")!.data;
      yield* loadPretrained(other, out);
      const state = yield* other.stateDict();
      const source = (yield* readCheckpoint(path)).tensors;
      let compared = 0;
      for (const [name, t] of Object.entries(source)) {
        if (!name.startsWith("backbone.")) continue;
        assertEquals(state.get(name)!.data, t.data, name);
        compared++;
      }
      assertEquals(compared, count);
      assertEquals(state.get("classifier.4.weight")!.data, headBefore);
    }));
  },
);

Deno.test("export: a file without a backbone fails naming it", gpuTestOptions, async () => {
  const path = `${dir}/empty.safetensors`;
  await Effect.runPromise(
    writeSafetensors(path, { "x": { dtype: "F32", shape: [1], data: Float32Array.of(1) } }),
  );
  const result = await runGpuResult(exportBackbone(path, `${dir}/never.safetensors`));
  ok(Result.isFailure(result));
  const e = result.failure;
  ok(e instanceof CheckpointError && e.file === path && e.problem === "missing", String(e));
  const missing = await runGpuResult(exportBackbone(`${dir}/absent.safetensors`, `${dir}/n`));
  ok(Result.isFailure(missing));
  const io = missing.failure;
  ok(io instanceof CheckpointError && io.problem === "io", String(io));
});
