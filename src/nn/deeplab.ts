/**
 * DeepLabV3 as torchvision builds it (`classifier.0` ASPP, `classifier.1-3`
 * 3x3 conv + BN + ReLU, `classifier.4` the 1x1 classifier), on a ResNet
 * backbone, with a classifier that grows by MiB's initialisation. The
 * forward returns the logits at the input size, the classifier's input
 * (penultimate features) and every backbone stage: nodes the forward
 * computed anyway, no copies. torchvision's dropout after the ASPP
 * projection is left out (the field's codes use in-place ABN without it).
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { concat } from "../autograd/concat.ts";
import { globalAvgPool } from "../autograd/pool.ts";
import { resizeBilinear } from "../autograd/resize.ts";
import type { GpuScoped, Node, Parameter } from "../autograd/tape.ts";
import type { Gpu } from "../gpu/device.ts";
import type { GpuError } from "../gpu/errors.ts";
import { download, release, type Tensor } from "../tensor/tensor.ts";
import {
  applyConv,
  applyConvBn,
  type Conv,
  type ConvBn,
  type ForwardOptions,
  makeConv,
  makeConvBn,
} from "./layers.ts";
import { ParamStore } from "./params.ts";
import { makeResNet, type ResNetSpec } from "./resnet.ts";

export type { ForwardOptions };

/** A DeepLabV3's shape; stored in checkpoints. */
export interface DeepLabConfig {
  readonly backbone: string;
  readonly resnet: ResNetSpec;
  /** Channels of the ASPP branches and of the head (256 in torchvision). */
  readonly headChannels: number;
  /** ASPP rates of the three dilated branches. */
  readonly rates: readonly [number, number, number];
  readonly numClasses: number;
}

/** The standard backbones and the CPU-sized `small` one. */
export const deepLabConfig = (
  backbone: "small" | "resnet18" | "resnet34" | "resnet50" | "resnet101",
  outputStride: 8 | 16,
  numClasses: number,
): DeepLabConfig => {
  const shapes = {
    small: { block: "basic", blocks: [1, 1, 1, 1], width: 16, head: 64 },
    resnet18: { block: "basic", blocks: [2, 2, 2, 2], width: 64, head: 256 },
    resnet34: { block: "basic", blocks: [3, 4, 6, 3], width: 64, head: 256 },
    resnet50: { block: "bottleneck", blocks: [3, 4, 6, 3], width: 64, head: 256 },
    resnet101: { block: "bottleneck", blocks: [3, 4, 23, 3], width: 64, head: 256 },
  } as const;
  const s = shapes[backbone];
  return {
    backbone,
    resnet: { block: s.block, blocks: [...s.blocks], width: s.width, outputStride },
    headChannels: s.head,
    rates: outputStride === 16 ? [6, 12, 18] : [12, 24, 36],
    numClasses,
  };
};

/** What the forward pass returns. */
export interface SegmentationOutput {
  /** [N, H, W, C] at the input size. */
  readonly logits: Node;
  /** [N, h, w, F]: the classifier's input, at the output stride. */
  readonly features: Node;
  /** Backbone stage outputs, layer1..layer4. */
  readonly stages: readonly Node[];
}

/** A DeepLabV3 model. */
export interface DeepLabV3 {
  readonly config: DeepLabConfig;
  readonly numClasses: number;
  readonly store: ParamStore;
  /** Every trainable parameter (none for a frozen model), torchvision names. */
  parameters(): readonly Parameter[];
  /** Backbone parameters and head (ASPP + classifier) parameters. */
  parameterGroups(): {
    readonly backbone: readonly Parameter[];
    readonly head: readonly Parameter[];
  };
  /** Runs the model on normalised NHWC images. */
  forward(images: Tensor<"f32">, options: ForwardOptions): GpuScoped<SegmentationOutput>;
  /** Adds `added` classifier rows with MiB's initialisation. */
  growClassifier(added: number): Effect.Effect<void, GpuError, Gpu>;
}

/** The ASPP module and the head after it. */
interface Head {
  readonly branches: readonly ConvBn[];
  readonly pooling: ConvBn;
  readonly project: ConvBn;
  readonly conv: ConvBn;
}

const makeHead = (store: ParamStore, config: DeepLabConfig, inC: number) =>
  Effect.gen(function* () {
    const c = config.headChannels;
    const p = "classifier.0";
    const branches = [
      yield* makeConvBn(store, `${p}.convs.0.0`, `${p}.convs.0.1`, inC, c, { kernel: 1 }),
    ];
    for (let i = 0; i < 3; i++) {
      branches.push(
        yield* makeConvBn(store, `${p}.convs.${i + 1}.0`, `${p}.convs.${i + 1}.1`, inC, c, {
          kernel: 3,
          dilation: config.rates[i],
        }),
      );
    }
    const pooling = yield* makeConvBn(store, `${p}.convs.4.1`, `${p}.convs.4.2`, inC, c, {
      kernel: 1,
    });
    const project = yield* makeConvBn(store, `${p}.project.0`, `${p}.project.1`, 5 * c, c, {
      kernel: 1,
    });
    const conv = yield* makeConvBn(store, "classifier.1", "classifier.2", c, c, { kernel: 3 });
    return { branches, pooling, project, conv } satisfies Head;
  });

const applyHead = (head: Head, x: Node, options: ForwardOptions) =>
  Effect.gen(function* () {
    const [, h, w] = x.value.shape;
    const outs: Node[] = [];
    for (const branch of head.branches) outs.push(yield* applyConvBn(branch, x, options));
    const pooled = yield* applyConvBn(head.pooling, yield* globalAvgPool(x), options);
    outs.push(yield* resizeBilinear(pooled, h, w));
    const projected = yield* applyConvBn(head.project, yield* concat(outs, -1), options);
    return yield* applyConvBn(head.conv, projected, options);
  });

/** Creates a DeepLabV3; `trainable: false` makes a frozen model that records no graph. */
export const makeDeepLabV3 = (
  config: DeepLabConfig,
  options: { readonly seed: number; readonly trainable?: boolean; readonly scope: Scope.Scope },
): Effect.Effect<DeepLabV3, GpuError, Gpu> =>
  Effect.gen(function* () {
    const store = new ParamStore(options.scope, options.trainable ?? true, options.seed);
    const backbone = yield* makeResNet(store, "backbone", config.resnet);
    const head = yield* makeHead(store, config, backbone.outChannels);
    let classifier: Conv = yield* makeConv(
      store,
      "classifier.4",
      config.headChannels,
      config.numClasses,
      { kernel: 1, bias: true },
    );
    let numClasses = config.numClasses;
    const model: DeepLabV3 = {
      get config() {
        return { ...config, numClasses };
      },
      get numClasses() {
        return numClasses;
      },
      store,
      parameters: () => store.parameters(),
      parameterGroups: () => {
        const all = store.parameters();
        return {
          backbone: all.filter((p) => p.name.startsWith("backbone.")),
          head: all.filter((p) => !p.name.startsWith("backbone.")),
        };
      },
      forward: (images, forwardOptions) =>
        Effect.gen(function* () {
          const [, height, width] = images.shape;
          const input: Node = { value: images, requiresGrad: false, parents: [] };
          const stages = yield* backbone.forward(input, forwardOptions);
          const features = yield* applyHead(head, stages[3], forwardOptions);
          const low = yield* applyConv(classifier, features);
          const logits = yield* resizeBilinear(low, height, width);
          return { logits, features, stages };
        }),
      growClassifier: (added) =>
        Effect.gen(function* () {
          const f = config.headChannels;
          const oldWeight = classifier.weight.value;
          const oldBias = classifier.bias!.value;
          const w = yield* download(oldWeight);
          const b = yield* download(oldBias);
          const grown = numClasses + added;
          // HWIO [1, 1, F, C]: class c is column c of each of the F rows.
          const weight = new Float32Array(f * grown);
          for (let i = 0; i < f; i++) {
            for (let c = 0; c < numClasses; c++) weight[i * grown + c] = w[i * numClasses + c];
            for (let c = numClasses; c < grown; c++) weight[i * grown + c] = w[i * numClasses];
          }
          // MiB: new biases and the background bias become b_bg - log(added + 1).
          const bias = new Float32Array(grown);
          bias.set(b);
          const shared = b[0] - Math.log(added + 1);
          for (let c = numClasses; c < grown; c++) bias[c] = shared;
          bias[0] = shared;
          store.nodes.delete("classifier.4.weight");
          store.nodes.delete("classifier.4.bias");
          const weightNode = yield* store.leaf("classifier.4.weight", weight, [1, 1, f, grown]);
          const biasNode = yield* store.leaf("classifier.4.bias", bias, [grown]);
          yield* release(oldWeight);
          yield* release(oldBias);
          classifier = { ...classifier, weight: weightNode, bias: biasNode };
          numClasses = grown;
        }),
    };
    return model;
  });
