/**
 * ResNet backbones under torchvision's names (`backbone.layer1.0.conv1`):
 * basic blocks (18, 34, the width-scaled `small`) and bottlenecks (50, 101,
 * the v1.5 layout with the stride on the 3x3), with output stride 16 or 8
 * by replacing strides with dilation in the last stages, as torchvision's
 * `replace_stride_with_dilation` does. Basic blocks take dilation too
 * (torchvision refuses it), so 18/34 also reach stride 8 or 16.
 *
 * @module
 */
import { Effect } from "effect";
import { add, relu } from "../autograd/basic.ts";
import { maxPool2d } from "../autograd/pool.ts";
import type { GpuScoped, Node } from "../autograd/tape.ts";
import type { Gpu } from "../gpu/device.ts";
import type { GpuError } from "../gpu/errors.ts";
import { applyConvBn, type ConvBn, type ForwardOptions, makeConvBn } from "./layers.ts";
import type { ParamStore } from "./params.ts";

/** The shape of a ResNet. */
export interface ResNetSpec {
  readonly block: "basic" | "bottleneck";
  /** Blocks per stage (layer1..layer4). */
  readonly blocks: readonly [number, number, number, number];
  /** Channels of the stem and of layer1's blocks (64 in torchvision). */
  readonly width: number;
  readonly outputStride: 8 | 16;
}

/** Channels of a stage's output. */
export const stageChannels = (spec: ResNetSpec, stage: number): number =>
  spec.width * 2 ** stage * (spec.block === "bottleneck" ? 4 : 1);

/** One residual block. */
interface Block {
  readonly layers: readonly ConvBn[];
  readonly downsample?: ConvBn;
}

/** A built backbone. */
export interface ResNet {
  readonly spec: ResNetSpec;
  readonly outChannels: number;
  /** Runs the stem and the four stages; returns every stage's output. */
  readonly forward: (x: Node, options: ForwardOptions) => GpuScoped<readonly Node[]>;
}

const makeBlock = (
  store: ParamStore,
  prefix: string,
  spec: ResNetSpec,
  inC: number,
  planes: number,
  stride: number,
  dilation: number,
): Effect.Effect<Block, GpuError, Gpu> =>
  Effect.gen(function* () {
    const expansion = spec.block === "bottleneck" ? 4 : 1;
    const outC = planes * expansion;
    const layers: ConvBn[] = [];
    if (spec.block === "basic") {
      layers.push(
        yield* makeConvBn(store, `${prefix}.conv1`, `${prefix}.bn1`, inC, planes, {
          kernel: 3,
          stride,
          dilation,
        }),
      );
      layers.push(
        yield* makeConvBn(store, `${prefix}.conv2`, `${prefix}.bn2`, planes, planes, {
          kernel: 3,
          dilation,
        }),
      );
    } else {
      layers.push(
        yield* makeConvBn(store, `${prefix}.conv1`, `${prefix}.bn1`, inC, planes, { kernel: 1 }),
      );
      layers.push(
        yield* makeConvBn(store, `${prefix}.conv2`, `${prefix}.bn2`, planes, planes, {
          kernel: 3,
          stride,
          dilation,
        }),
      );
      layers.push(
        yield* makeConvBn(store, `${prefix}.conv3`, `${prefix}.bn3`, planes, outC, { kernel: 1 }),
      );
    }
    const downsample = stride !== 1 || inC !== outC
      ? yield* makeConvBn(store, `${prefix}.downsample.0`, `${prefix}.downsample.1`, inC, outC, {
        kernel: 1,
        stride,
        padding: 0,
      })
      : undefined;
    return { layers, downsample };
  });

const applyBlock = (block: Block, x: Node, options: ForwardOptions): GpuScoped<Node> =>
  Effect.gen(function* () {
    let y = x;
    for (let i = 0; i < block.layers.length; i++) {
      y = yield* applyConvBn(block.layers[i], y, options, i < block.layers.length - 1);
    }
    const identity = block.downsample ? yield* applyConvBn(block.downsample, x, options, false) : x;
    return yield* relu(yield* add(y, identity));
  });

/** Builds a ResNet's parameters under `prefix` (`backbone`). */
export const makeResNet = (
  store: ParamStore,
  prefix: string,
  spec: ResNetSpec,
): Effect.Effect<ResNet, GpuError, Gpu> =>
  Effect.gen(function* () {
    const stem = yield* makeConvBn(store, `${prefix}.conv1`, `${prefix}.bn1`, 3, spec.width, {
      kernel: 7,
      stride: 2,
      padding: 3,
    });
    // Stages that trade their stride for dilation (torchvision's replace_stride_with_dilation).
    const dilate = spec.outputStride === 8
      ? [false, false, true, true]
      : [false, false, false, true];
    const stages: Block[][] = [];
    let inC = spec.width;
    let dilation = 1;
    for (let s = 0; s < 4; s++) {
      const planes = spec.width * 2 ** s;
      let stride = s === 0 ? 1 : 2;
      const previousDilation = dilation;
      if (dilate[s]) {
        dilation *= stride;
        stride = 1;
      }
      const blocks: Block[] = [];
      for (let b = 0; b < spec.blocks[s]; b++) {
        const name = `${prefix}.layer${s + 1}.${b}`;
        blocks.push(
          yield* makeBlock(
            store,
            name,
            spec,
            inC,
            planes,
            b === 0 ? stride : 1,
            b === 0 ? previousDilation : dilation,
          ),
        );
        inC = planes * (spec.block === "bottleneck" ? 4 : 1);
      }
      stages.push(blocks);
    }
    return {
      spec,
      outChannels: inC,
      forward: (x, options) =>
        Effect.gen(function* () {
          let y = yield* applyConvBn(stem, x, options);
          y = yield* maxPool2d(y, { kernel: 3, stride: 2, padding: 1 });
          const outputs: Node[] = [];
          for (const blocks of stages) {
            for (const block of blocks) y = yield* applyBlock(block, y, options);
            outputs.push(y);
          }
          return outputs;
        }),
    };
  });
