/**
 * The layers a ResNet and DeepLabV3 are made of, over a {@link ParamStore}:
 * a convolution (no bias unless asked) and conv + batch norm (+ ReLU).
 *
 * @module
 */
import { Effect } from "effect";
import { relu } from "../autograd/basic.ts";
import { conv2d } from "../autograd/conv.ts";
import { batchNorm } from "../autograd/norm.ts";
import type { GpuScoped, Node } from "../autograd/tape.ts";
import type { Gpu } from "../gpu/device.ts";
import type { GpuError } from "../gpu/errors.ts";
import type { BatchNormState, ParamStore } from "./params.ts";

/** Options of a model's forward pass. */
export interface ForwardOptions {
  readonly mode: "train" | "eval";
  /** Train mode with batch-norm statistics frozen: running stats used and left unchanged. */
  readonly freezeBn?: boolean;
}

/** A convolution layer. */
export interface Conv {
  readonly weight: Node;
  readonly bias?: Node;
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;
}

/** Geometry of a convolution. */
export interface ConvSpec {
  readonly kernel: number;
  readonly stride?: number;
  readonly dilation?: number;
  /** Default: dilation * (kernel - 1) / 2 ("same" for odd kernels). */
  readonly padding?: number;
  readonly bias?: boolean;
}

/** Creates a convolution `name` (`name.weight`, optionally `name.bias`). */
export const makeConv = (
  store: ParamStore,
  name: string,
  cin: number,
  cout: number,
  spec: ConvSpec,
): Effect.Effect<Conv, GpuError, Gpu> =>
  Effect.gen(function* () {
    const dilation = spec.dilation ?? 1;
    const weight = yield* store.conv(name, spec.kernel, spec.kernel, cin, cout);
    const bias = spec.bias
      ? yield* store.leaf(`${name}.bias`, new Float32Array(cout), [cout])
      : undefined;
    return {
      weight,
      bias,
      stride: spec.stride ?? 1,
      dilation,
      padding: spec.padding ?? (dilation * (spec.kernel - 1)) / 2,
    };
  });

/** Applies a convolution. */
export const applyConv = (conv: Conv, x: Node): GpuScoped<Node> =>
  conv2d(x, conv.weight, conv.bias, {
    stride: conv.stride,
    padding: conv.padding,
    dilation: conv.dilation,
  });

/** Applies batch norm in the forward's mode (frozen: eval statistics, affine still trained). */
export const applyBatchNorm = (
  bn: BatchNormState,
  x: Node,
  options: ForwardOptions,
): GpuScoped<Node> => {
  const mode = options.mode === "train" && !options.freezeBn ? "train" : "eval";
  if (mode === "train") bn.batchesTracked++;
  return batchNorm(x, bn.weight, bn.bias, bn.running, { mode });
};

/** conv -> BN -> ReLU (ReLU optional). */
export interface ConvBn {
  readonly conv: Conv;
  readonly bn: BatchNormState;
}

/** Creates conv `convName` and batch norm `bnName`. */
export const makeConvBn = (
  store: ParamStore,
  convName: string,
  bnName: string,
  cin: number,
  cout: number,
  spec: ConvSpec,
): Effect.Effect<ConvBn, GpuError, Gpu> =>
  Effect.gen(function* () {
    const conv = yield* makeConv(store, convName, cin, cout, spec);
    const bn = yield* store.batchNorm(bnName, cout);
    return { conv, bn };
  });

/** Applies conv -> BN (-> ReLU when `activate`). */
export const applyConvBn = (
  layer: ConvBn,
  x: Node,
  options: ForwardOptions,
  activate = true,
): GpuScoped<Node> =>
  Effect.gen(function* () {
    const y = yield* applyBatchNorm(layer.bn, yield* applyConv(layer.conv, x), options);
    return activate ? yield* relu(y) : y;
  });
