/**
 * ResNet backbones in torchvision's layout: basic blocks (ResNet-18/34 and
 * the width-scaled `small`) or v1.5 bottlenecks (ResNet-50/101, stride on
 * the 3x3), with `replace_stride_with_dilation` for output stride 16 (layer4
 * dilated) or 8 (layer3 and layer4). Module names follow torchvision
 * (`conv1`, `bn1`, `layer2.0.downsample.0`, ...) under a prefix.
 *
 * torchvision's BasicBlock refuses dilation; here a dilated basic block
 * dilates both 3x3 convs the way torchvision dilates the bottleneck's 3x3
 * (the first block of a layer keeps the previous dilation).
 *
 * @module
 */
import { Effect } from "effect";
import type { Gpu } from "../gpu/device.ts";
import type { GpuError } from "../gpu/errors.ts";
import { addRelu } from "../autograd/basic.ts";
import { maxPool2d } from "../autograd/pool.ts";
import type { GpuScoped, Node } from "../autograd/tape.ts";
import { type DeepLabConfig, expansionOf } from "./config.ts";
import {
  applyBatchNorm,
  applyConv,
  type BatchNormLayer,
  convBn,
  type ConvLayer,
  type NormContext,
  type ParameterStore,
} from "./layers.ts";

/** One residual block: its conv/BN pairs in order and an optional downsample. */
interface Block {
  readonly convs: readonly ConvLayer[];
  readonly norms: readonly BatchNormLayer[];
  readonly downsample: { readonly conv: ConvLayer; readonly bn: BatchNormLayer } | undefined;
}

/** The backbone: applies the stem and layer1..layer4 and returns each layer's output. */
export interface ResNet {
  /** Output channels of layer4. */
  readonly channels: number;
  readonly forward: (x: Node, ctx: NormContext) => GpuScoped<readonly Node[]>;
}

/** Stride and dilation of each layer, torchvision's `_make_layer` bookkeeping. */
export const layerGeometry = (outputStride: 8 | 16) => {
  const replace = outputStride === 8 ? [false, true, true] : [false, false, true];
  let dilation = 1;
  return [1, 2, 2, 2].map((stride, index) => {
    const previousDilation = dilation;
    if (index > 0 && replace[index - 1]) {
      dilation *= stride;
      stride = 1;
    }
    return { stride, dilation, previousDilation };
  });
};

/** Builds a ResNet backbone whose parameters are named `<prefix><torchvision name>`. */
export const makeResNet = (
  config: DeepLabConfig,
  store: ParameterStore,
  prefix: string,
): Effect.Effect<ResNet, GpuError, Gpu> =>
  Effect.gen(function* () {
    const expansion = expansionOf(config.block);
    const stemConv = yield* store.conv(`${prefix}conv1`, {
      kernel: 7,
      cin: 3,
      cout: config.width,
      stride: 2,
      padding: 3,
    });
    const stemBn = yield* store.batchNorm(`${prefix}bn1`, config.width);
    let inplanes = config.width;
    const layers: Block[][] = [];
    const geometry = layerGeometry(config.outputStride);
    for (let l = 0; l < 4; l++) {
      const planes = config.width * 2 ** l;
      const { stride, dilation, previousDilation } = geometry[l];
      const blocks: Block[] = [];
      for (let b = 0; b < config.blocks[l]; b++) {
        const name = `${prefix}layer${l + 1}.${b}`;
        const s = b === 0 ? stride : 1;
        const d = b === 0 ? previousDilation : dilation;
        const convs: ConvLayer[] = [];
        const norms: BatchNormLayer[] = [];
        if (config.block === "bottleneck") {
          convs.push(
            yield* store.conv(`${name}.conv1`, { kernel: 1, cin: inplanes, cout: planes }),
          );
          norms.push(yield* store.batchNorm(`${name}.bn1`, planes));
          convs.push(
            yield* store.conv(`${name}.conv2`, {
              kernel: 3,
              cin: planes,
              cout: planes,
              stride: s,
              padding: d,
              dilation: d,
            }),
          );
          norms.push(yield* store.batchNorm(`${name}.bn2`, planes));
          convs.push(
            yield* store.conv(`${name}.conv3`, {
              kernel: 1,
              cin: planes,
              cout: planes * expansion,
            }),
          );
          norms.push(yield* store.batchNorm(`${name}.bn3`, planes * expansion));
        } else {
          convs.push(
            yield* store.conv(`${name}.conv1`, {
              kernel: 3,
              cin: inplanes,
              cout: planes,
              stride: s,
              padding: d,
              dilation: d,
            }),
          );
          norms.push(yield* store.batchNorm(`${name}.bn1`, planes));
          convs.push(
            yield* store.conv(`${name}.conv2`, {
              kernel: 3,
              cin: planes,
              cout: planes,
              padding: d,
              dilation: d,
            }),
          );
          norms.push(yield* store.batchNorm(`${name}.bn2`, planes));
        }
        const needsDownsample = b === 0 && (s !== 1 || inplanes !== planes * expansion);
        const downsample = needsDownsample
          ? {
            conv: yield* store.conv(`${name}.downsample.0`, {
              kernel: 1,
              cin: inplanes,
              cout: planes * expansion,
              stride: s,
            }),
            bn: yield* store.batchNorm(`${name}.downsample.1`, planes * expansion),
          }
          : undefined;
        blocks.push({ convs, norms, downsample });
        inplanes = planes * expansion;
      }
      layers.push(blocks);
    }

    const applyBlock = (x: Node, block: Block, ctx: NormContext) =>
      Effect.gen(function* () {
        let y = x;
        const last = block.convs.length - 1;
        for (let i = 0; i <= last; i++) {
          y = yield* convBn(y, block.convs[i], block.norms[i], ctx, i < last);
        }
        const identity = block.downsample
          ? yield* applyBatchNorm(
            yield* applyConv(x, block.downsample.conv),
            block.downsample.bn,
            ctx,
          )
          : x;
        return yield* addRelu(y, identity);
      });

    const forward = (x: Node, ctx: NormContext) =>
      Effect.gen(function* () {
        const stem = yield* convBn(x, stemConv, stemBn, ctx, true);
        let y = yield* maxPool2d(stem, { kernel: 3, stride: 2, padding: 1 });
        const stages: Node[] = [];
        for (const blocks of layers) {
          for (const block of blocks) y = yield* applyBlock(y, block, ctx);
          stages.push(y);
        }
        return stages;
      });

    return { channels: inplanes, forward };
  });
