/**
 * Parity with torchvision: DeepLabV3-ResNet-50 (output stride 8, 21 classes)
 * in eval mode on a 2x3x65x65 input, with the synthetic weights of
 * src/nn/synthetic_weights.ts (regenerated here, checked against the
 * fixture's checksums) loaded through the checkpoint loader. The fixture's
 * output is torchvision's, computed in float64 (tools/make_deeplab_fixture.py).
 *
 * The converter (tools/convert_torchvision.py) is checked on its committed
 * output, tests/fixtures/deeplab/converter.safetensors: a few tensors, one per
 * rule of the generator, written by its writer with its metadata
 * (tools/make_converter_fixture.py, numpy only). Where python3 with numpy is
 * installed the fixture is also regenerated and compared byte for byte; where
 * tools/make_deeplab_fixture.py (PyTorch) wrote the full 160 MB file under
 * data/, that is checked too. Either is otherwise ignored, saying why.
 */
import { deepStrictEqual } from "node:assert/strict";
import { Effect } from "effect";
import { readSafetensors, type SafetensorsTensor } from "../../src/io/safetensors.ts";
import { type Checkpoint, readCheckpoint } from "../../src/nn/checkpoint.ts";
import { loadModelWeights } from "../../src/nn/load_weights.ts";
import {
  checksum,
  deepLabConfig,
  makeDeepLabV3,
  nchwToNhwc,
  syntheticTensor,
} from "../../src/nn/mod.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";

const path = (relative: string) => new URL(relative, import.meta.url).pathname;
const FIXTURE = path("../fixtures/deeplab/parity.safetensors");
const CONVERTER_FIXTURE = path("../fixtures/deeplab/converter.safetensors");
const CONVERTER_SCRIPT = path("../../tools/make_converter_fixture.py");
const STATE_NAMES = path("../fixtures/deeplab/state_names.json");
const CONVERTED = path("../../data/deeplab_r50_parity.safetensors");
const converted = await Deno.stat(CONVERTED).then(() => true, () => false);

/** Why python3 with numpy cannot run the fixture's script here, or undefined when it can. */
const pythonMissing = await new Deno.Command("python3", {
  args: ["-c", "import numpy"],
  stdout: "null",
  stderr: "null",
}).output().then(
  (out) => out.success ? undefined : "python3 has no numpy",
  () => "no python3 on PATH",
);

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

/** torchvision's deeplabv3_resnet50 state-dict shapes, by name. */
const torchShapes = new Map(
  JSON.parse(await Deno.readTextFile(STATE_NAMES)).deeplabv3_resnet50 as [string, number[]][],
);

/** The generator's rule a tensor name and shape falls under (see src/nn/synthetic_weights.ts). */
const ruleOf = (name: string, shape: readonly number[]) =>
  name.endsWith("num_batches_tracked")
    ? "counter"
    : shape.length >= 2
    ? "weight of rank >= 2"
    : name.endsWith(".running_var")
    ? "running variance"
    : name.endsWith(".running_mean")
    ? "running mean"
    : name.endsWith(".bias")
    ? "bias"
    : "other vector";

/**
 * Checks a file the converter wrote: the DeepLabV3 configuration of its
 * metadata is ours, every tensor has torchvision's name and shape, counters
 * are I64 zeros and every float the generator's exact bits. Returns the rules
 * seen and the number of tensors.
 */
const checkConverted = async (file: string) => {
  const checkpoint = await Effect.runPromise(readCheckpoint(file));
  const want = deepLabConfig("resnet50", 8, 21);
  // Same fields and values, in any order.
  deepStrictEqual(checkpoint.model, want, "the converter's DeepLabV3 configuration is ours");
  const rules = new Set<string>();
  for (const [name, t] of Object.entries(checkpoint.tensors)) {
    const shape = torchShapes.get(name);
    if (!shape || JSON.stringify(shape) !== JSON.stringify(t.shape)) {
      throw new Error(
        `${name} [${t.shape}]: torchvision has ${shape ? `[${shape}]` : "no such tensor"}`,
      );
    }
    const rule = ruleOf(name, t.shape);
    rules.add(rule);
    if (rule === "counter") {
      if (t.dtype !== "I64" || (t.data as BigInt64Array)[0] !== 0n) {
        throw new Error(`${name}: ${t.dtype} ${t.data[0]}, expected an I64 zero`);
      }
      continue;
    }
    if (t.dtype !== "F32") throw new Error(`${name}: dtype ${t.dtype}`);
    const mine = syntheticTensor(name, t.shape);
    const theirs = t.data as Float32Array;
    if (mine.length !== theirs.length) throw new Error(`${name}: ${theirs.length} values`);
    for (let i = 0; i < mine.length; i++) {
      if (!Object.is(mine[i], theirs[i])) {
        throw new Error(`${name}[${i}]: ${mine[i]} vs ${theirs[i]}`);
      }
    }
  }
  return { rules, tensors: Object.keys(checkpoint.tensors).length };
};

Deno.test("the converter's writer: its committed DeepLabV3 file holds exactly the generator's values", async () => {
  const { rules } = await checkConverted(CONVERTER_FIXTURE);
  // One tensor of every rule of the generator, or the fixture checks less than it claims.
  const every = [
    "counter",
    "weight of rank >= 2",
    "running variance",
    "running mean",
    "bias",
    "other vector",
  ];
  const missing = every.filter((rule) => !rules.has(rule));
  if (missing.length > 0) throw new Error(`the fixture has no ${missing.join(", ")}`);
});

Deno.test({
  name: "tools/make_converter_fixture.py writes the committed converter fixture byte for byte" +
    (pythonMissing ? ` (ignored: ${pythonMissing})` : ""),
  ignore: pythonMissing !== undefined,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const out = `${dir}/converter.safetensors`;
      const run = await new Deno.Command("python3", {
        args: [CONVERTER_SCRIPT, "--out", out],
        stdout: "piped",
        stderr: "piped",
      }).output();
      if (!run.success) throw new Error(new TextDecoder().decode(run.stderr));
      const [fresh, committed] = await Promise.all([
        Deno.readFile(out),
        Deno.readFile(CONVERTER_FIXTURE),
      ]);
      const first = fresh.findIndex((b, i) => b !== committed[i]);
      if (fresh.length !== committed.length || first >= 0) {
        throw new Error(
          `regenerated ${fresh.length} bytes differ from the committed ${committed.length} at ${first}`,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "the converter's full file of the same weights holds exactly the generator's values" +
    (converted
      ? ""
      : " (ignored: no data/deeplab_r50_parity.safetensors; tools/make_deeplab_fixture.py writes it, with PyTorch)"),
  ignore: !converted,
  fn: async () => {
    // The whole state dict: every name torchvision has (each checked above to be torchvision's).
    const { tensors } = await checkConverted(CONVERTED);
    if (tensors !== torchShapes.size) throw new Error(`${tensors} of ${torchShapes.size} tensors`);
  },
});
