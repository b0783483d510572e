/**
 * DeepLabV3 behaviour: batch norm in train / eval / freezeBn, the frozen
 * model's empty graph, and MiB's classifier growth (host values by hand, the
 * GPU model's weights, and the probability it preserves).
 */
import { deepStrictEqual as assertEquals, ok, throws } from "node:assert/strict";
import { Effect } from "effect";
import { grad, type Node } from "../../src/autograd/tape.ts";
import { sumAll } from "../../src/autograd/basic.ts";
import {
  deepLabConfig,
  type DeepLabV3,
  growMib,
  type HostStateTensor,
  makeDeepLabV3,
} from "../../src/nn/mod.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";

const images = (n: number, size: number) =>
  fromArray(
    Float32Array.from({ length: n * size * size * 3 }, (_, i) => Math.sin(0.37 * i) * 1.5),
    [n, size, size, 3],
    "f32",
  );

const snapshot = (state: ReadonlyMap<string, HostStateTensor>) =>
  new Map(
    [...state].map(([k, v]) => [k, Array.from(v.data as ArrayLike<number | bigint>, String)]),
  );

const differing = (a: ReturnType<typeof snapshot>, b: ReturnType<typeof snapshot>) =>
  [...a.keys()].filter((k) => JSON.stringify(a.get(k)) !== JSON.stringify(b.get(k)));

const small = (classes: number, trainable = true) =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope;
    return yield* makeDeepLabV3(deepLabConfig("small", 16, classes), { seed: 7, trainable, scope });
  });

Deno.test(
  "batch norm: eval and freezeBn use running stats and keep them; train updates them",
  gpuTestOptions,
  async () => {
    await runGpu(Effect.gen(function* () {
      const model = yield* small(3);
      const x = yield* images(2, 33);
      const initial = snapshot(yield* model.stateDict());
      const evalLogits = yield* download((yield* model.forward(x, { mode: "eval" })).logits.value);
      assertEquals(differing(initial, snapshot(yield* model.stateDict())), []);

      const frozen = yield* model.forward(x, { mode: "train", freezeBn: true });
      assertEquals(Array.from(yield* download(frozen.logits.value)), Array.from(evalLogits));
      assertEquals(differing(initial, snapshot(yield* model.stateDict())), []);
      // The BN affine parameters still train under freezeBn.
      const bnWeight = model.parameters().find((p) => p.name === "backbone.bn1.weight")!;
      const [g] = yield* grad(yield* sumAll(frozen.logits), [bnWeight]);
      ok((yield* download(g)).some((v) => v !== 0), "freezeBn: BN weight gradient is zero");

      const trained = yield* model.forward(x, { mode: "train" });
      const trainLogits = yield* download(trained.logits.value);
      ok(trainLogits.some((v, i) => v !== evalLogits[i]), "train mode used the running stats");
      const changed = differing(initial, snapshot(yield* model.stateDict()));
      const bnBuffers = model.stateEntries().filter((e) => !e.parameter).map((e) => e.name);
      // Every running mean, variance and counter moved; no parameter did.
      assertEquals(changed.sort(), bnBuffers.sort());
      const counter = (yield* model.stateDict()).get("classifier.2.num_batches_tracked")!;
      assertEquals(counter.data[0], 1n);
    }));
  },
);

const allNodes = (out: { logits: Node; features: Node; stages: readonly Node[] }) => [
  out.logits,
  out.features,
  ...out.stages,
];

Deno.test("a frozen model records no graph; a trainable one does", gpuTestOptions, async () => {
  await runGpu(Effect.gen(function* () {
    const x = yield* images(2, 17);
    const frozen = yield* small(3, false);
    ok(frozen.parameters().every((p) => !p.requiresGrad));
    for (const node of allNodes(yield* frozen.forward(x, { mode: "eval" }))) {
      ok(!node.requiresGrad && node.parents.length === 0 && node.backward === undefined);
    }
    const live = yield* small(3, true);
    ok(allNodes(yield* live.forward(x, { mode: "eval" })).every((n) => n.requiresGrad));
  }));
});

Deno.test("growMib: new rows copy the background, biases share its mass (hand-computed)", () => {
  const grown = growMib({
    inChannels: 2,
    classes: 3,
    weight: Float32Array.of(1, 2, 3, 4, 5, 6),
    bias: Float32Array.of(0.5, 1, 2),
  }, 2);
  const b = Math.fround(0.5 - Math.log(3));
  assertEquals(grown.classes, 5);
  assertEquals(Array.from(grown.weight), [1, 2, 3, 1, 1, 4, 5, 6, 4, 4]);
  assertEquals(Array.from(grown.bias), [b, 1, 2, b, b]);
  throws(() =>
    growMib({ inChannels: 1, classes: 1, weight: Float32Array.of(1), bias: Float32Array.of(0) }, 0)
  );
});

const softmaxRows = (logits: Float32Array, classes: number) => {
  const out = new Float64Array(logits.length);
  for (let p = 0; p < logits.length; p += classes) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[p + c]);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[p + c] - max);
    for (let c = 0; c < classes; c++) out[p + c] = Math.exp(logits[p + c] - max) / sum;
  }
  return out;
};

const classifierOf = (model: DeepLabV3) =>
  Effect.map(model.stateDict(), (s) => ({
    weight: s.get("classifier.4.weight")!,
    bias: s.get("classifier.4.bias")!,
  }));

Deno.test(
  "growClassifier: MiB rows on the GPU, new parameters, background mass preserved",
  gpuTestOptions,
  async () => {
    await runGpu(Effect.gen(function* () {
      const model = yield* small(3);
      // A non-zero bias, so the shared log(k + 1) shift is visible.
      yield* model.assign(new Map([["classifier.4.bias", Float32Array.of(0.25, -0.5, 0.75)]]));
      const x = yield* images(2, 17);
      const before = softmaxRows(
        yield* download((yield* model.forward(x, { mode: "eval" })).logits.value),
        3,
      );
      const old = yield* classifierOf(model);
      const oldParams = model.parameters().filter((p) => p.name.startsWith("classifier.4."));
      yield* model.growClassifier(2);
      assertEquals(model.numClasses, 5);
      const now = yield* classifierOf(model);
      assertEquals(now.weight.shape, [5, 64, 1, 1]);
      const w = now.weight.data as Float32Array;
      const ow = old.weight.data as Float32Array;
      for (const row of [0, 1, 2, 3, 4]) {
        const source = row < 3 ? row : 0;
        assertEquals(
          Array.from(w.subarray(row * 64, row * 64 + 64)),
          Array.from(ow.subarray(source * 64, source * 64 + 64)),
        );
      }
      const shared = Math.fround(0.25 - Math.log(3));
      assertEquals(Array.from(now.bias.data as Float32Array), [shared, -0.5, 0.75, shared, shared]);
      const newParams = model.parameters().filter((p) => p.name.startsWith("classifier.4."));
      ok(newParams.every((p) => !oldParams.includes(p)) && newParams.length === 2);
      assertEquals(newParams.map((p) => p.value.shape), [[1, 1, 64, 5], [5]]);

      const after = softmaxRows(
        yield* download((yield* model.forward(x, { mode: "eval" })).logits.value),
        5,
      );
      const pixels = before.length / 3;
      const expected: number[] = [];
      const actual: number[] = [];
      for (let p = 0; p < pixels; p++) {
        expected.push(before[3 * p], before[3 * p + 1], before[3 * p + 2]);
        actual.push(
          after[5 * p] + after[5 * p + 3] + after[5 * p + 4],
          after[5 * p + 1],
          after[5 * p + 2],
        );
      }
      assertClose(actual, expected, 1e-6, 1e-5, "old-class probabilities");
    }));
  },
);
