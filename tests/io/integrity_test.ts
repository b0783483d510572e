/**
 * Checkpoint integrity: the SHA-256 of the tensor data is written with every
 * checkpoint and verified on read (a same-size bit flip is refused, naming
 * the file and the way back; a file without a checksum still loads), and NaN
 * or infinite values are neither written nor loaded.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Effect, Result } from "effect";
import {
  CheckpointError,
  decodeCheckpoint,
  readCheckpoint,
  saveCheckpoint,
} from "../../src/nn/checkpoint.ts";
import { loadModelWeights } from "../../src/nn/load_weights.ts";
import { DATA_CHECKSUM_KEY, dataChecksum, firstNonFinite } from "../../src/io/integrity.ts";
import { decodeSafetensors, encodeSafetensors } from "../../src/io/safetensors.ts";
import { readRunCheckpoint } from "../../src/incremental/run_state.ts";
import { deepLabConfig, makeDeepLabV3 } from "../../src/nn/mod.ts";
import { gpuTestOptions, runGpu, runGpuResult } from "../support/gpu.ts";

const dir = await Deno.makeTempDir({ prefix: "integrity_test" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

const build = (seed: number) =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope;
    return yield* makeDeepLabV3(deepLabConfig("small", 16, 3), { seed, scope });
  });

/** A saved checkpoint's bytes. */
const saved = await runGpu(Effect.gen(function* () {
  const path = `${dir}/a.safetensors`;
  yield* saveCheckpoint(path, { model: yield* build(3), meta: { step: 1 } });
  return yield* Effect.promise(() => Deno.readFile(path));
}));

const failure = (result: Result.Result<unknown, unknown>): CheckpointError => {
  if (Result.isSuccess(result)) throw new Error("expected a failure");
  assert(result.failure instanceof CheckpointError, String(result.failure));
  return result.failure;
};

/** `bytes` with one bit of the last data byte flipped (the file keeps its size). */
const flipped = (bytes: Uint8Array) => {
  const copy = bytes.slice();
  copy[copy.length - 1] ^= 0x10;
  return copy;
};

Deno.test("the checksum is the SHA-256 of the data section", () => {
  const file = Result.getOrThrow(decodeSafetensors(saved, "a.safetensors"));
  const headerBytes = Number(new DataView(saved.buffer).getBigUint64(0, true));
  assertEquals(file.metadata[DATA_CHECKSUM_KEY], dataChecksum(saved.subarray(8 + headerBytes)));
  // Plain safetensors files get none unless asked.
  const plain = { a: { dtype: "F32", shape: [2], data: Float32Array.of(1, 2) } } as const;
  const bytes = Result.getOrThrow(encodeSafetensors(plain));
  assertEquals(Result.getOrThrow(decodeSafetensors(bytes, "p")).metadata, {});
});

Deno.test("a same-size bit flip in the tensor data is refused, naming the file", async () => {
  const path = `${dir}/checkpoints/last.safetensors`;
  await Deno.mkdir(`${dir}/checkpoints`, { recursive: true });
  await Deno.writeFile(path, flipped(saved));
  const e = failure(await Effect.runPromise(Effect.result(readCheckpoint(path))));
  assertEquals([e.problem, e.file], ["checksum", path]);
  assert(e.message.startsWith(`${path}: checksum: the tensor data does not match`), e.message);

  // A run checkpoint says how to go on from the newest step checkpoint.
  await Deno.writeFile(`${dir}/checkpoints/step-0.safetensors`, saved);
  await Deno.writeFile(`${dir}/checkpoints/step-1.safetensors`, flipped(saved));
  const last = failure(await Effect.runPromise(Effect.result(readRunCheckpoint(path))));
  assert(
    last.message.includes(
      `copy ${dir}/checkpoints/step-1.safetensors over ${dir}/checkpoints/last.safetensors ` +
        "and run again with --resume",
    ),
    last.message,
  );
  const step1 = `${dir}/checkpoints/step-1.safetensors`;
  const step = failure(await Effect.runPromise(Effect.result(readRunCheckpoint(step1))));
  assert(step.message.includes(`copy ${dir}/checkpoints/step-0.safetensors over`), step.message);
  const step0 = `${dir}/checkpoints/step-0.safetensors`;
  await Deno.writeFile(step0, flipped(saved));
  const first = failure(await Effect.runPromise(Effect.result(readRunCheckpoint(step0))));
  assert(first.message.includes("no earlier step checkpoint is left"), first.message);
});

Deno.test("a file without a checksum still loads; a malformed checksum is refused", () => {
  const file = Result.getOrThrow(decodeSafetensors(saved, "a.safetensors"));
  const { [DATA_CHECKSUM_KEY]: _, ...metadata } = file.metadata;
  const plain = Result.getOrThrow(encodeSafetensors(file.tensors, metadata));
  // Without a checksum nothing can tell the flip: the file decodes.
  assert(Result.isSuccess(decodeCheckpoint(flipped(plain), "converted.safetensors")));
  const bad = Result.getOrThrow(
    encodeSafetensors(file.tensors, { ...metadata, [DATA_CHECKSUM_KEY]: "abc" }),
  );
  assertEquals(failure(decodeCheckpoint(bad, "bad.safetensors")).problem, "checksum");
});

Deno.test("NaN or infinite values are not written and not loaded", gpuTestOptions, async () => {
  assertEquals(firstNonFinite(Float32Array.of(1, -2, 0)), -1);
  assertEquals(firstNonFinite(Float32Array.of(1, Infinity, NaN)), 1);
  const path = `${dir}/nan.safetensors`;
  const momentum = { "optimizer.momentum.a": { shape: [2], data: Float32Array.of(0, NaN) } };
  const extra = failure(
    await runGpuResult(Effect.gen(function* () {
      yield* saveCheckpoint(path, { model: yield* build(1), extraTensors: momentum });
    })),
  );
  assertEquals([extra.problem, extra.tensor], ["non-finite", "optimizer.momentum.a"]);
  assert(extra.message.includes("element 1 is NaN"), extra.message);

  const weights = failure(
    await runGpuResult(Effect.gen(function* () {
      const model = yield* build(1);
      const bias = (yield* model.stateDict()).get("classifier.4.bias")!.data as Float32Array;
      bias[2] = -Infinity;
      yield* model.assign(new Map([["classifier.4.bias", bias]]));
      yield* saveCheckpoint(path, { model });
    })),
  );
  assertEquals([weights.problem, weights.tensor], ["non-finite", "classifier.4.bias"]);
  assertEquals(await Deno.stat(path).then(() => true, () => false), false);

  // A file written by other means with a NaN weight (and a valid checksum) is refused on load.
  const file = Result.getOrThrow(decodeSafetensors(saved, "a.safetensors"));
  const tensors = new Map(file.tensors);
  const conv = tensors.get("backbone.conv1.weight")!;
  const data = Float32Array.from(conv.data as Float32Array);
  data[5] = NaN;
  tensors.set("backbone.conv1.weight", { ...conv, data } as typeof conv);
  const checkpoint = Result.getOrThrow(
    decodeCheckpoint(
      Result.getOrThrow(encodeSafetensors(tensors, file.metadata, { checksum: true })),
      "nan.st",
    ),
  );
  const loaded = failure(
    await runGpuResult(Effect.gen(function* () {
      yield* loadModelWeights(yield* build(2), checkpoint);
    })),
  );
  assertEquals([loaded.problem, loaded.tensor, loaded.file], [
    "non-finite",
    "backbone.conv1.weight",
    "nan.st",
  ]);
  assert(loaded.message.includes("element 5 is NaN"), loaded.message);
});
