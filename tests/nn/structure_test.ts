/**
 * Network structure: state-dict names and shapes equal torchvision's, in
 * order (so torchvision's `load_state_dict` accepts our checkpoints), and
 * forward shapes of every backbone at output strides 8 and 16.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Effect } from "effect";
import {
  type BackboneName,
  deepLabConfig,
  layerGeometry,
  makeDeepLabV3,
} from "../../src/nn/mod.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";

const torchNames = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/deeplab/state_names.json", import.meta.url)),
) as Record<string, [string, number[]][]>;

const stateNames = (backbone: BackboneName, outputStride: 8 | 16, classes: number) =>
  runGpu(Effect.gen(function* () {
    const scope = yield* Effect.scope;
    const model = yield* makeDeepLabV3(deepLabConfig(backbone, outputStride, classes), {
      seed: 0,
      trainable: false,
      scope,
    });
    return model.stateEntries().map((e) => [e.name, [...e.torchShape()]] as [string, number[]]);
  }));

for (const arch of ["resnet50", "resnet101"] as const) {
  Deno.test(
    `deeplabv3_${arch}: names and shapes equal torchvision's, in order`,
    gpuTestOptions,
    async () => {
      assertEquals(await stateNames(arch, 8, 21), torchNames[`deeplabv3_${arch}`]);
    },
  );
}

for (const arch of ["resnet18", "resnet34"] as const) {
  Deno.test(
    `${arch} backbone: names and shapes equal torchvision's ImageNet ResNet`,
    gpuTestOptions,
    async () => {
      const ours = (await stateNames(arch, 16, 3))
        .filter(([n]) => n.startsWith("backbone."))
        .map(([n, s]) => [n.slice("backbone.".length), s]);
      assertEquals(ours, torchNames[arch].filter(([n]) => !n.startsWith("fc.")));
    },
  );
}

Deno.test("layer strides and dilations follow replace_stride_with_dilation", () => {
  const view = (os: 8 | 16) =>
    layerGeometry(os).map((g) => [g.stride, g.dilation, g.previousDilation]);
  assertEquals(view(16), [[1, 1, 1], [2, 1, 1], [2, 1, 1], [1, 2, 1]]);
  assertEquals(view(8), [[1, 1, 1], [2, 1, 1], [1, 2, 1], [1, 4, 2]]);
});

/** Forward shapes on a 1x33x33 input (odd size: every stride rounds up). */
const shapes = (backbone: BackboneName, outputStride: 8 | 16) =>
  runGpu(Effect.gen(function* () {
    const scope = yield* Effect.scope;
    const model = yield* makeDeepLabV3(deepLabConfig(backbone, outputStride, 5), {
      seed: 1,
      trainable: false,
      scope,
    });
    const images = yield* fromArray(
      Float32Array.from({ length: 33 * 33 * 3 }, (_, i) => Math.sin(i)),
      [1, 33, 33, 3],
      "f32",
    );
    const out = yield* model.forward(images, { mode: "eval" });
    return {
      logits: out.logits.value.shape,
      features: out.features.value.shape,
      stages: out.stages.map((s) => s.value.shape),
    };
  }));

const CASES: [BackboneName, 8 | 16, number, number][] = [
  ["small", 8, 16, 1],
  ["small", 16, 16, 1],
  ["resnet18", 8, 64, 1],
  ["resnet18", 16, 64, 1],
  ["resnet34", 16, 64, 1],
  ["resnet50", 16, 64, 4],
  ["resnet101", 8, 64, 4],
];

for (const [backbone, os, width, expansion] of CASES) {
  Deno.test(`${backbone} OS${os}: forward shapes on 1x33x33`, gpuTestOptions, async () => {
    const s = await shapes(backbone, os);
    // 33 -> stem 17 -> pool 9 -> layer2 5 -> layer3 3 (OS16) -> layer4 3 (dilated).
    const size = os === 8 ? [9, 5, 5, 5] : [9, 5, 3, 3];
    const channels = [1, 2, 4, 8].map((m) => width * m * expansion);
    assertEquals(s.stages, size.map((h, i) => [1, h, h, channels[i]]));
    const aspp = backbone === "small" ? 64 : 256;
    assertEquals(s.features, [1, size[3], size[3], aspp]);
    assertEquals(s.logits, [1, 33, 33, 5]);
  });
}

for (const os of [8, 16] as const) {
  Deno.test(
    `small OS${os}: a non-square odd input (1x37x53) keeps its size; small logits at the stride`,
    gpuTestOptions,
    async () => {
      const out = await runGpu(Effect.gen(function* () {
        const scope = yield* Effect.scope;
        const model = yield* makeDeepLabV3(deepLabConfig("small", os, 4), {
          seed: 2,
          trainable: false,
          scope,
        });
        const images = yield* fromArray(
          Float32Array.from({ length: 37 * 53 * 3 }, (_, i) => Math.cos(0.3 * i)),
          [1, 37, 53, 3],
          "f32",
        );
        const result = yield* model.forward(images, { mode: "eval" });
        return {
          logits: result.logits.value.shape,
          small: result.smallLogits.value.shape,
          features: result.features.value.shape,
          values: yield* download(result.logits.value),
        };
      }));
      // 37x53 -> stem 19x27 -> pool 10x14 -> layer2 5x7 -> layer3 3x4 (OS16).
      const small = os === 8 ? [5, 7] : [3, 4];
      assertEquals(out.logits, [1, 37, 53, 4]);
      assertEquals(out.small, [1, ...small, 4]);
      assertEquals(out.features.slice(0, 3), [1, ...small]);
      assertEquals(out.values.every(Number.isFinite), true);
    },
  );
}
