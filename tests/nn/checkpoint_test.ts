/**
 * Checkpoints: bit-exact round trips (save -> load -> save gives the same
 * bytes and the same forward), metadata and extra tensors, ImageNet ResNet
 * files into the backbone, and tagged errors naming the file and tensor for
 * corrupt, truncated, lying and mismatched files.
 */
import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { Effect, Result } from "effect";
import fc from "fast-check";
import {
  type Checkpoint,
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  readCheckpoint,
  saveCheckpoint,
} from "../../src/nn/checkpoint.ts";
import {
  loadModelWeights,
  loadPretrained,
  modelFromCheckpoint,
} from "../../src/nn/load_weights.ts";
import { encodeSafetensors, type SafetensorsTensor } from "../../src/io/safetensors.ts";
import { deepLabConfig, type DeepLabV3, makeDeepLabV3 } from "../../src/nn/mod.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu, runGpuResult } from "../support/gpu.ts";

const dir = await Deno.makeTempDir({ prefix: "checkpoint_test" });
const config = deepLabConfig("small", 16, 3);
const images = fromArray(
  Float32Array.from({ length: 2 * 17 * 17 * 3 }, (_, i) => Math.cos(0.21 * i)),
  [2, 17, 17, 3],
  "f32",
);

const build = (seed: number, classes = 3) =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope;
    return yield* makeDeepLabV3({ ...config, numClasses: classes }, { seed, scope });
  });

const evalLogits = (model: DeepLabV3) =>
  Effect.gen(function* () {
    const out = yield* model.forward(yield* images, { mode: "eval" });
    return Array.from(yield* download(out.logits.value));
  });

const extras = { "optimizer.momentum.a": { shape: [2, 2], data: Float32Array.of(1, -2, 3.5, 0) } };
const meta = { step: 2, classes: [0, 1, 2], rng: [1, 2, 3, 4], schedule: { iteration: 7 } };
const isExtra = (name: string) => name.startsWith("optimizer.");

/** A saved checkpoint of a small model after one training forward (moved stats, counters 1). */
const saved = await runGpu(Effect.gen(function* () {
  const model = yield* build(3);
  yield* model.forward(yield* images, { mode: "train" });
  const path = `${dir}/a.safetensors`;
  yield* saveCheckpoint(path, { model, extraTensors: extras, meta });
  return {
    path,
    bytes: yield* Effect.promise(() => Deno.readFile(path)),
    logits: yield* evalLogits(model),
  };
}));

const checkpointError = (exit: Result.Result<unknown, unknown>): CheckpointError => {
  if (Result.isSuccess(exit)) throw new Error("expected a failure");
  const e = exit.failure;
  if (!(e instanceof CheckpointError)) throw new Error(`expected a CheckpointError, got ${e}`);
  return e;
};

Deno.test(
  "save -> load -> save gives identical bytes and an identical forward",
  gpuTestOptions,
  async () => {
    const again = await runGpu(Effect.gen(function* () {
      const checkpoint = yield* readCheckpoint(saved.path);
      assertEquals(checkpoint.meta, meta);
      assertEquals(checkpoint.model, config);
      assertEquals(
        checkpoint.tensors["optimizer.momentum.a"].data,
        extras["optimizer.momentum.a"].data,
      );
      assertEquals(checkpoint.tensors["backbone.bn1.num_batches_tracked"], {
        dtype: "I64",
        shape: [],
        data: BigInt64Array.of(1n),
      });
      const scope = yield* Effect.scope;
      const model = yield* modelFromCheckpoint(checkpoint, { scope, ignore: isExtra });
      const bytes = yield* encodeCheckpoint({ model, extraTensors: extras, meta });
      return { bytes, logits: yield* evalLogits(model) };
    }));
    ok(
      again.bytes.length === saved.bytes.length &&
        again.bytes.every((b, i) => b === saved.bytes[i]),
    );
    assertEquals(again.logits, saved.logits);
  },
);

Deno.test("conv weights are OIHW on disk", gpuTestOptions, async () => {
  const file = await Effect.runPromise(readCheckpoint(saved.path));
  assertEquals(file.tensors["backbone.conv1.weight"].shape, [16, 3, 7, 7]);
  assertEquals(file.tensors["classifier.4.weight"].shape, [3, 64, 1, 1]);
});

Deno.test(
  "a torchvision ImageNet ResNet file loads into the backbone only",
  gpuTestOptions,
  async () => {
    await runGpu(Effect.gen(function* () {
      const source = yield* readCheckpoint(saved.path);
      const tensors: Record<string, SafetensorsTensor> = {};
      for (const [name, t] of Object.entries(source.tensors)) {
        if (name.startsWith("backbone.")) tensors[name.slice("backbone.".length)] = t;
      }
      tensors["fc.weight"] = { dtype: "F32", shape: [10, 128], data: new Float32Array(1280) };
      tensors["fc.bias"] = { dtype: "F32", shape: [10], data: new Float32Array(10) };
      const path = `${dir}/imagenet.safetensors`;
      const bytes = Result.getOrThrow(encodeSafetensors(tensors));
      yield* Effect.promise(() => Deno.writeFile(path, bytes));
      const model = yield* build(99);
      const headBefore = (yield* model.stateDict()).get("classifier.1.weight")!.data;
      yield* loadPretrained(model, path);
      const state = yield* model.stateDict();
      for (const [name, t] of Object.entries(tensors)) {
        if (!name.startsWith("fc.")) {
          assertEquals(state.get(`backbone.${name}`)!.data, t.data, name);
        }
      }
      assertEquals(state.get("classifier.1.weight")!.data, headBefore);
    }));
  },
);

Deno.test(
  "pretrained DeepLab weights with other classifier rows keep the classifier",
  gpuTestOptions,
  async () => {
    await runGpu(Effect.gen(function* () {
      const model = yield* build(5, 4);
      const before = (yield* model.stateDict()).get("classifier.4.weight")!.data;
      // The saved file has extras: load a copy without them.
      const checkpoint = yield* readCheckpoint(saved.path);
      const tensors = Object.fromEntries(
        Object.entries(checkpoint.tensors).filter(([n]) => !isExtra(n)),
      );
      const path = `${dir}/pretrained.safetensors`;
      yield* Effect.promise(() =>
        Deno.writeFile(path, Result.getOrThrow(encodeSafetensors(tensors)))
      );
      yield* loadPretrained(model, path);
      const state = yield* model.stateDict();
      assertEquals(state.get("classifier.4.weight")!.data, before);
      assertEquals(
        state.get("backbone.conv1.weight")!.data,
        checkpoint.tensors["backbone.conv1.weight"].data,
      );
    }));
  },
);

/** Loads `checkpoint` into a fresh 3-class model and returns the error. */
const loadError = (checkpoint: Checkpoint, classes = 3) =>
  runGpuResult(Effect.gen(function* () {
    yield* loadModelWeights(yield* build(1, classes), checkpoint, { ignore: isExtra });
  })).then(checkpointError);

const edited = (edit: (t: Record<string, SafetensorsTensor>) => void) =>
  Effect.runPromise(readCheckpoint(saved.path)).then((c) => {
    const tensors = { ...c.tensors };
    edit(tensors);
    return { ...c, tensors, storedDtypes: {} } as Checkpoint;
  });

Deno.test(
  "missing, unexpected, mis-shaped and mistyped tensors are named",
  gpuTestOptions,
  async () => {
    let e = await loadError(await edited((t) => delete t["classifier.2.running_var"]));
    assertEquals([e.problem, e.tensor, e.file], [
      "missing",
      "classifier.2.running_var",
      saved.path,
    ]);
    e = await loadError(
      await edited((t) => (t["backbone.layer9.weight"] = t["classifier.4.bias"])),
    );
    assertEquals([e.problem, e.tensor], ["unexpected", "backbone.layer9.weight"]);
    e = await loadError(await edited(() => {}), 4);
    assertEquals([e.problem, e.tensor], ["shape", "classifier.4.weight"]);
    ok(e.message.includes("[4,64,1,1]") && e.message.includes("[3,64,1,1]"), e.message);
    e = await loadError(
      await edited((
        t,
      ) => (t["backbone.bn1.bias"] = { dtype: "I32", shape: [16], data: new Int32Array(16) })),
    );
    assertEquals([e.problem, e.tensor], ["dtype", "backbone.bn1.bias"]);
    ok(e.message.includes(saved.path));
  },
);

Deno.test("unreadable, truncated, lying and corrupt files give a CheckpointError", async () => {
  const fail = (bytes: Uint8Array) => checkpointError(decodeCheckpoint(bytes, "x.safetensors"));
  assertEquals(
    checkpointError(await Effect.runPromise(Effect.result(readCheckpoint(`${dir}/none`)))).problem,
    "io",
  );
  assertEquals(fail(saved.bytes.subarray(0, saved.bytes.length - 3)).problem, "format");
  assertEquals(fail(saved.bytes.subarray(0, 5)).problem, "format");
  const lying = saved.bytes.slice();
  new DataView(lying.buffer).setBigUint64(0, 1n << 40n, true);
  assertEquals(fail(lying).problem, "format");
  const badMeta = Result.getOrThrow(
    encodeSafetensors({ a: { dtype: "F32", shape: [1], data: new Float32Array(1) } }, {
      gsc: "{not json",
    }),
  );
  assertEquals(fail(badMeta).problem, "meta");
  assertEquals(fail(badMeta).file, "x.safetensors");
});

Deno.test("random truncation and byte corruption never throw", gpuTestOptions, async () => {
  await fc.assert(
    fc.asyncProperty(
      // Half the cases keep the whole file so corrupted but decodable files reach the loader.
      fc.oneof(fc.constant(saved.bytes.length), fc.nat({ max: saved.bytes.length })),
      fc.array(fc.tuple(fc.nat({ max: 4096 }), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      async (cut, flips) => {
        const bytes = saved.bytes.slice(0, Math.max(cut, 0));
        // Flips land in the length and header, where they matter most.
        for (const [at, value] of flips) if (at < bytes.length) bytes[at] = value;
        const decoded = decodeCheckpoint(bytes, "fuzz.safetensors");
        if (Result.isFailure(decoded)) return decoded.failure instanceof CheckpointError;
        const exit = await runGpuResult(Effect.gen(function* () {
          yield* loadModelWeights(yield* build(1), decoded.success, { ignore: isExtra });
        }));
        return Result.isSuccess(exit) || exit.failure instanceof CheckpointError;
      },
    ),
    { seed: 42, numRuns: 25 },
  );
});
