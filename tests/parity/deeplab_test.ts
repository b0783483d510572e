/**
 * Parity with torchvision: DeepLabV3-ResNet-50 (output stride 8, 21 classes)
 * in eval mode on a 2x3x65x65 input, with the synthetic weights of
 * src/nn/synthetic_weights.ts (regenerated here, checked against the
 * fixture's checksums) loaded through the checkpoint loader. The fixture's
 * output is torchvision's, computed in float64 (tools/make_deeplab_fixture.py).
 */
import { Effect } from "effect";
import { readSafetensors, type SafetensorsTensor } from "../../src/io/safetensors.ts";
import { type Checkpoint, loadModelWeights, readCheckpoint } from "../../src/io/checkpoint.ts";
import {
  checksum,
  deepLabConfig,
  makeDeepLabV3,
  nchwToNhwc,
  syntheticTensor,
} from "../../src/nn/mod.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";

const FIXTURE = new URL("../fixtures/deeplab/parity.safetensors", import.meta.url).pathname;
const CONVERTED = new URL("../../data/deeplab_r50_parity.safetensors", import.meta.url).pathname;
const converted = await Deno.stat(CONVERTED).then(() => true, () => false);

/** Runs the eval forward with the given weights and returns max |ours - torchvision| and max |torchvision|. */
const parityError = (weights: (names: readonly [string, readonly number[]][]) => Checkpoint) =>
  runGpu(Effect.gen(function* () {
    const fixture = yield* readSafetensors(FIXTURE);
    const input = fixture.tensors.get("input")!;
    const expected = fixture.tensors.get("output")!;
    const scope = yield* Effect.scope;
    const model = yield* makeDeepLabV3(deepLabConfig("resnet50", 8, 21), {
      seed: 0,
      trainable: false,
      scope,
    });
    const checkpoint = weights(model.stateEntries().map((e) => [e.name, e.torchShape()]));
    const sums = JSON.parse(fixture.metadata.checksums) as Record<string, [number, number]>;
    for (const [name, [sum, squares]] of Object.entries(sums)) {
      const t = checkpoint.tensors[name];
      if (!t) throw new Error(`generator lacks ${name}`);
      const [s, q] = checksum(t.data as Float32Array);
      if (Math.abs(s - sum) > 1e-9 * q + 1e-9 || Math.abs(q - squares) > 1e-9 * q) {
        throw new Error(
          `${name}: checksum ${s}, ${q} differs from the fixture's ${sum}, ${squares}`,
        );
      }
    }
    yield* loadModelWeights(model, checkpoint);
    const images = yield* fromArray(nchwToNhwc(input.data as Float32Array, input.shape), [
      2,
      65,
      65,
      3,
    ], "f32");
    const out = yield* model.forward(images, { mode: "eval" });
    const ours = yield* download(out.logits.value);
    const want = nchwToNhwc(expected.data as Float32Array, expected.shape);
    let maxError = 0;
    let maxRef = 0;
    for (let i = 0; i < want.length; i++) {
      maxError = Math.max(maxError, Math.abs(ours[i] - want[i]));
      maxRef = Math.max(maxRef, Math.abs(want[i]));
    }
    return { maxError, maxRef, shape: out.logits.value.shape };
  }));

const synthetic = (names: readonly [string, readonly number[]][]): Checkpoint => {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [name, shape] of names) {
    tensors[name] = name.endsWith("num_batches_tracked")
      ? { dtype: "I64", shape, data: new BigInt64Array(1) }
      : { dtype: "F32", shape, data: syntheticTensor(name, shape) };
  }
  return { path: "<synthetic>", tensors, storedDtypes: {}, meta: undefined, model: undefined };
};

Deno.test(
  "DeepLabV3-ResNet-50 eval forward matches torchvision within 1e-4 relative",
  gpuTestOptions,
  async () => {
    const { maxError, maxRef, shape } = await parityError(synthetic);
    console.log(
      `max |ours - torchvision| = ${maxError.toExponential(3)} (max |ref| ${maxRef.toFixed(4)})`,
    );
    if (JSON.stringify(shape) !== "[2,65,65,21]") throw new Error(`logits shape [${shape}]`);
    if (!(maxError <= 1e-4 * maxRef)) throw new Error(`error ${maxError} > 1e-4 * ${maxRef}`);
  },
);

Deno.test({
  name: "the converter's file of the same weights holds exactly the generator's values",
  ignore: !converted,
  ...gpuTestOptions,
  fn: async () => {
    const file = await Effect.runPromise(readCheckpoint(CONVERTED));
    if (file.model?.backbone !== "resnet50" || file.model.numClasses !== 21) {
      throw new Error(`converted config ${JSON.stringify(file.model)}`);
    }
    for (const [name, t] of Object.entries(file.tensors)) {
      if (name.endsWith("num_batches_tracked")) continue;
      const mine = syntheticTensor(name, t.shape);
      const theirs = t.data as Float32Array;
      for (let i = 0; i < mine.length; i++) {
        if (!Object.is(mine[i], theirs[i])) {
          throw new Error(`${name}[${i}]: ${mine[i]} vs ${theirs[i]}`);
        }
      }
    }
  },
});
