/**
 * The run checkpoint (`writeRunCheckpoint` / `readRunCheckpoint`) keeps
 * everything `--resume` continues from: every model tensor bit for bit (BN
 * running statistics and counters included), the progress, configuration
 * and classes, the method's tensors and JSON, and the optimizer's step
 * counts and momentum buffers, which a fresh SGD imports back unchanged. A
 * step checkpoint carries no optimizer; a damaged file is refused with the
 * way back.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Effect } from "effect";
import { SeededRng } from "../../src/util/rng.ts";
import { deepLabConfig, type DeepLabV3, makeDeepLabV3 } from "../../src/nn/mod.ts";
import type { HostStateTensor } from "../../src/nn/mod.ts";
import { download } from "../../src/tensor/tensor.ts";
import { makeSgd, type SgdState } from "../../src/optim/sgd.ts";
import type { MethodState } from "../../src/incremental/method.ts";
import {
  checkpointPaths,
  type Progress,
  readRunCheckpoint,
  writeRunCheckpoint,
} from "../../src/incremental/run_state.ts";
import type { StepMetrics } from "../../src/incremental/types.ts";
import { gpuTestOptions, runGpu, runGpuResult } from "../support/gpu.ts";
import { assertSameArray, tinyTrainConfig } from "../support/train_cli.ts";

const CLASSES = 17;

/** Float32 values a JSON or rounding path would change: -0, subnormals, extremes. */
const EDGE_VALUES = [-0, 2 ** -149, -(2 ** -130), 3.4028234663852886e38, -1.5e-45, 1 / 3];

/** Seeded float32 values with the edge values at the front. */
const values = (rng: SeededRng, length: number) => {
  const data = Float32Array.from({ length }, () => rng.uniform(-3, 3));
  data.set(EDGE_VALUES.slice(0, length));
  return data;
};

/** Float bits (so -0 and subnormals count) or counter values. */
const bits = (data: Float32Array | BigInt64Array): ArrayLike<number | bigint> =>
  data instanceof Float32Array ? new Uint32Array(data.buffer, data.byteOffset, data.length) : data;

interface AnyTensor {
  readonly dtype?: string;
  readonly shape: readonly number[];
  readonly data: Float32Array | BigInt64Array;
}

/** Checks two sets of named tensors hold the same names, dtypes, shapes and bits. */
const assertSameTensors = (
  actual: Iterable<[string, AnyTensor]>,
  expected: Iterable<[string, AnyTensor]>,
  what: string,
) => {
  const [a, e] = [new Map(actual), new Map(expected)];
  assertEquals([...a.keys()].sort(), [...e.keys()].sort(), `${what}: names`);
  for (const [name, t] of e) {
    const got = a.get(name)!;
    assertEquals([got.dtype, got.shape], [t.dtype, t.shape], `${what}: ${name}`);
    assertSameArray(bits(got.data), bits(t.data), `${what}: ${name}`);
  }
};

/** Gives every model tensor seeded values (counters included); returns them as a state dict. */
const randomize = (model: DeepLabV3, seed: number) =>
  Effect.gen(function* () {
    const rng = new SeededRng(seed, "weights");
    const assigned = new Map<string, Float32Array | number>();
    const expected = new Map<string, HostStateTensor>();
    for (const e of model.stateEntries()) {
      const shape = e.torchShape();
      const size = shape.reduce((a, b) => a * b, 1);
      const value = e.kind === "count" ? rng.int(1, 10 ** 9) : values(rng, size);
      assigned.set(e.name, value);
      expected.set(
        e.name,
        typeof value === "number"
          ? { dtype: "I64", shape, data: BigInt64Array.of(BigInt(value)) }
          : { dtype: "F32", shape, data: value },
      );
    }
    yield* model.assign(assigned);
    return expected as ReadonlyMap<string, HostStateTensor>;
  });

const metrics: StepMetrics = {
  step: 0,
  seenClasses: [0, 1, 2],
  oldClasses: [0, 1, 2],
  newClasses: [],
  iou: [0.5, null, 1 / 3, null],
  miouAll: 5 / 12,
  miouOld: 5 / 12,
  miouNew: null,
  pixelAccuracy: 0.7,
  images: 3,
};
const progress: Progress = {
  step: 1,
  epochsDone: 2,
  stepDone: false,
  iteration: 37,
  metrics: [metrics],
  stepSeconds: [12.25],
};

/** An SGD state over some of the model's parameters: counts, and buffers for the stepped ones. */
const sgdState = (model: DeepLabV3, rng: SeededRng): SgdState => {
  const parameterSteps: Record<string, number> = {};
  const momentumBuffers: SgdState["momentumBuffers"] = {};
  model.parameters().forEach((p, i) => {
    // Every third parameter never stepped (no gradient): no buffer, as SGD exports it.
    const steps = i % 3 === 2 ? 0 : 37 - (i % 2);
    parameterSteps[p.name] = steps;
    if (steps > 0) {
      (momentumBuffers as Record<string, { shape: number[]; data: Float32Array }>)[p.name] = {
        shape: [...p.value.shape],
        data: values(rng, p.value.elements),
      };
    }
  });
  return { steps: 37, parameterSteps, momentumBuffers };
};

const methodState = (rng: SeededRng): MethodState => ({
  tensors: {
    "gsc.prototypes": { shape: [CLASSES, 5], data: values(rng, CLASSES * 5) },
    "gsc.prototypes_valid": {
      shape: [CLASSES],
      data: Float32Array.from({ length: CLASSES }, (_, i) => i % 2),
    },
  },
  json: { prototypes: true, nested: { list: [1, 2.5, null, "x"], flag: false } },
});

/** Checks an SGD state: step counts, and momentum buffers bit for bit. */
const assertSameSgd = (actual: SgdState, expected: SgdState, what: string) => {
  assertEquals(actual.steps, expected.steps, `${what}: steps`);
  assertEquals(actual.parameterSteps, expected.parameterSteps, `${what}: parameter steps`);
  assertSameTensors(
    Object.entries(actual.momentumBuffers),
    Object.entries(expected.momentumBuffers),
    `${what}: momentum`,
  );
};

const dir = await Deno.makeTempDir({ prefix: "gsc-run-state-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const config = tinyTrainConfig({
  data: `${dir}/data`,
  out: `${dir}/run`,
  task: "15-1",
  seed: 11,
  epochs: 3,
  epochsNext: 2,
  strips: 1,
});
const paths = checkpointPaths(config.out);

Deno.test(
  "an epoch checkpoint gives back the weights bit for bit, the progress, config, classes, method and optimizer state",
  gpuTestOptions,
  async () => {
    await Deno.mkdir(paths.dir, { recursive: true });
    const result = await runGpu(Effect.gen(function* () {
      const scope = yield* Effect.scope;
      const model = yield* makeDeepLabV3(deepLabConfig("small", 8, CLASSES), { seed: 1, scope });
      const written = yield* randomize(model, 2);
      const rng = new SeededRng(3);
      const optimizer = sgdState(model, rng);
      const method = methodState(rng);
      const meta = { kind: "epoch" as const, config, progress, classes: [16] };
      yield* writeRunCheckpoint(paths.last, model, meta, method, optimizer);

      const read = yield* readRunCheckpoint(paths.last);
      // A fresh model with other weights takes the saved ones.
      const fresh = yield* makeDeepLabV3(deepLabConfig("small", 8, CLASSES), { seed: 9, scope });
      const classifier = fresh.stateEntries().find((e) => e.name === "classifier.4.weight")!;
      const before = yield* download(classifier.tensor());
      yield* read.loadInto(fresh);
      const loaded = yield* fresh.stateDict();
      // The optimizer state goes into a fresh SGD and comes out unchanged, as `--resume` uses it.
      const groups = fresh.parameterGroups();
      const sgd = yield* makeSgd(
        [
          { parameters: groups.backbone },
          { parameters: groups.head, lrMultiplier: 10 },
        ],
        { momentum: 0.9, nesterov: true, weightDecay: 1e-4 },
        scope,
      );
      assert(read.optimizer !== undefined, "an epoch checkpoint holds the optimizer");
      yield* sgd.importState(read.optimizer);
      const reexported = yield* sgd.exportState();
      return { written, before, loaded, read, optimizer, method, meta, reexported };
    }));
    const { written, before, loaded, read, optimizer, method, meta, reexported } = result;
    assert(written.size > 50, `the model has ${written.size} state entries`);
    assert(written.has("backbone.bn1.num_batches_tracked"));
    const writtenClassifier = written.get("classifier.4.weight")!.data as Float32Array;
    assert(before[7] !== writtenClassifier[7], "the fresh model starts from other weights");
    assertSameTensors(loaded, written, "weights");
    assertEquals(read.path, paths.last);
    assertEquals(read.meta.kind, "epoch");
    assertEquals(read.meta.config, meta.config);
    assertEquals(read.meta.progress, progress);
    assertEquals(read.meta.classes, [16]);
    assertEquals(read.method.json, method.json);
    assertSameTensors(
      Object.entries(read.method.tensors),
      Object.entries(method.tensors),
      "method tensors",
    );
    assertSameSgd(read.optimizer!, optimizer, "optimizer read back");
    assertSameSgd(reexported, optimizer, "optimizer imported and exported");
    assertEquals(read.meta.optimizer, {
      steps: optimizer.steps,
      parameterSteps: optimizer.parameterSteps,
    });
  },
);

Deno.test(
  "a step checkpoint without method state or optimizer reads back with neither",
  gpuTestOptions,
  async () => {
    await Deno.mkdir(paths.dir, { recursive: true });
    const read = await runGpu(Effect.gen(function* () {
      const scope = yield* Effect.scope;
      const model = yield* makeDeepLabV3(deepLabConfig("small", 8, CLASSES), { seed: 4, scope });
      yield* writeRunCheckpoint(
        paths.step(0),
        model,
        { kind: "step", config, progress: { ...progress, stepDone: true }, classes: [0, 1] },
        undefined,
        undefined,
      );
      return yield* readRunCheckpoint(paths.step(0));
    }));
    assertEquals(read.meta.kind, "step");
    assertEquals(read.meta.progress.stepDone, true);
    assertEquals(read.optimizer, undefined);
    assertEquals(read.method, { tensors: {}, json: undefined });
  },
);

Deno.test(
  "a checkpoint whose tensor data is damaged is refused with the newest earlier step to go on from",
  gpuTestOptions,
  async () => {
    await Deno.mkdir(paths.dir, { recursive: true });
    const damaged = `${paths.dir}/step-3.safetensors`;
    await runGpu(Effect.gen(function* () {
      const scope = yield* Effect.scope;
      const model = yield* makeDeepLabV3(deepLabConfig("small", 8, CLASSES), { seed: 5, scope });
      const meta = { kind: "step" as const, config, progress, classes: [0] };
      yield* writeRunCheckpoint(damaged, model, meta, undefined, undefined);
    }));
    await Deno.copyFile(damaged, paths.step(1));
    const bytes = await Deno.readFile(damaged);
    bytes[bytes.length - 5] ^= 0x40;
    await Deno.writeFile(damaged, bytes);
    const result = await runGpuResult(readRunCheckpoint(damaged));
    assert(result._tag === "Failure", "a damaged checkpoint must not read");
    const error = result.failure;
    assert(error._tag === "CheckpointError", error.message);
    assertEquals(error.problem, "checksum");
    assert(
      error.message.includes(
        `copy ${paths.dir}/step-1.safetensors over ${paths.dir}/last.safetensors`,
      ),
      error.message,
    );
  },
);
