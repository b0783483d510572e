/**
 * The building blocks of the networks: a store that creates every
 * parameter and batch-norm buffer under its torchvision state-dict name, and
 * conv / batch-norm layers applied through the autograd wrappers.
 *
 * A layer keeps its tensors in mutable fields so the classifier can be
 * replaced (grown) without rebuilding the forward.
 *
 * @module
 */
import { Effect, Scope } from "effect";
import type { Gpu } from "../gpu/device.ts";
import type { GpuError } from "../gpu/errors.ts";
import { SeededRng } from "../util/rng.ts";
import { conv2d } from "../autograd/conv.ts";
import { batchNorm, type RunningStats } from "../autograd/norm.ts";
import type { GpuScoped, Node, Parameter } from "../autograd/tape.ts";
import type { Conv2dOptions } from "../ops/conv.ts";
import type { BatchNormMode } from "../ops/norm.ts";
import { fromArray, type Tensor } from "../tensor/tensor.ts";

/** A convolution: HWIO weight, optional bias, and its geometry. */
export interface ConvLayer {
  readonly name: string;
  weight: Parameter;
  bias: Parameter | undefined;
  readonly options: Conv2dOptions;
}

/** A batch-norm layer: affine parameters, running statistics and the batch counter. */
export interface BatchNormLayer {
  readonly name: string;
  readonly weight: Parameter;
  readonly bias: Parameter;
  readonly running: RunningStats;
  /** torchvision's `num_batches_tracked`: training-mode forwards so far. */
  tracked: number;
}

/** How one state-dict entry is stored: its on-disk (torchvision) shape and where it lives. */
export interface StateEntry {
  readonly name: string;
  /** "conv": an OIHW weight held as HWIO; "vector": any f32 tensor in torch layout; "count": an integer. */
  readonly kind: "conv" | "vector" | "count";
  /** Shape on disk (torchvision's). */
  readonly torchShape: () => readonly number[];
  /** The GPU tensor (conv and vector entries). */
  readonly tensor: () => Tensor<"f32">;
  /** Reads / writes the host integer (count entries). */
  readonly count?: { get: () => number; set: (value: number) => void };
  /** The parameter behind the entry; absent for running statistics and counters. */
  readonly parameter?: () => Parameter;
}

/** Parameter leaf with `requiresGrad` set by the model's trainability. */
export const makeParameter = (
  value: Tensor<"f32">,
  name: string,
  trainable: boolean,
): Parameter => ({
  value,
  requiresGrad: trainable,
  parents: [],
  name,
  grad: undefined,
});

/** Conv geometry of a layer: square kernel, stride, padding, dilation, bias. */
export interface ConvSpec {
  readonly kernel: number;
  readonly cin: number;
  readonly cout: number;
  readonly stride?: number;
  readonly padding?: number;
  readonly dilation?: number;
  readonly bias?: boolean;
}

/**
 * Creates the parameters of a model in one scope, names them, and keeps the
 * ordered state dict. Initial values are seeded per tensor name, so they do
 * not depend on construction order.
 */
export class ParameterStore {
  readonly entries = new Map<string, StateEntry>();
  readonly scope: Scope.Scope;
  readonly seed: number;
  readonly trainable: boolean;

  constructor(scope: Scope.Scope, seed: number, trainable: boolean) {
    this.scope = scope;
    this.seed = seed;
    this.trainable = trainable;
  }

  /** A GPU tensor holding `data`, owned by the store's scope. */
  upload(
    data: Float32Array,
    shape: readonly number[],
  ): Effect.Effect<Tensor<"f32">, GpuError, Gpu> {
    return Scope.provide(fromArray(data, shape, "f32"), this.scope);
  }

  /** Kaiming normal (fan_out, ReLU gain), as torchvision's ResNet initialises convolutions. */
  kaimingHwio(name: string, spec: ConvSpec): Float32Array {
    const n = spec.kernel * spec.kernel * spec.cin * spec.cout;
    const std = Math.sqrt(2 / (spec.cout * spec.kernel * spec.kernel));
    const rng = new SeededRng(this.seed, name);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = rng.normal() * std;
    return out;
  }

  /** Registers a conv entry whose tensors the layer holds (so a replaced weight is seen). */
  registerConv(layer: ConvLayer): void {
    const weightName = `${layer.name}.weight`;
    this.entries.set(weightName, {
      name: weightName,
      kind: "conv",
      torchShape: () => {
        const [kh, kw, i, o] = layer.weight.value.shape;
        return [o, i, kh, kw];
      },
      tensor: () => layer.weight.value,
      parameter: () => layer.weight,
    });
    if (layer.bias) {
      const biasName = `${layer.name}.bias`;
      this.entries.set(biasName, {
        name: biasName,
        kind: "vector",
        torchShape: () => layer.bias!.value.shape,
        tensor: () => layer.bias!.value,
        parameter: () => layer.bias!,
      });
    }
  }

  /** A convolution named `name` (torchvision's module path), Kaiming-initialised, bias 0. */
  conv(name: string, spec: ConvSpec): Effect.Effect<ConvLayer, GpuError, Gpu> {
    // The generator below cannot see `this`.
    // deno-lint-ignore no-this-alias
    const self: ParameterStore = this;
    return Effect.gen(function* () {
      const shape = [spec.kernel, spec.kernel, spec.cin, spec.cout];
      const weight = yield* self.upload(self.kaimingHwio(`${name}.weight`, spec), shape);
      const bias = spec.bias
        ? yield* self.upload(new Float32Array(spec.cout), [spec.cout])
        : undefined;
      const layer: ConvLayer = {
        name,
        weight: makeParameter(weight, `${name}.weight`, self.trainable),
        bias: bias ? makeParameter(bias, `${name}.bias`, self.trainable) : undefined,
        options: {
          stride: spec.stride ?? 1,
          padding: spec.padding ?? 0,
          dilation: spec.dilation ?? 1,
        },
      };
      self.registerConv(layer);
      return layer;
    });
  }

  /** A batch-norm layer: weight 1, bias 0, running mean 0, running variance 1. */
  batchNorm(name: string, channels: number): Effect.Effect<BatchNormLayer, GpuError, Gpu> {
    // The generator below cannot see `this`.
    // deno-lint-ignore no-this-alias
    const self: ParameterStore = this;
    return Effect.gen(function* () {
      const ones = new Float32Array(channels).fill(1);
      const zeros = new Float32Array(channels);
      const layer: BatchNormLayer = {
        name,
        weight: makeParameter(
          yield* self.upload(ones, [channels]),
          `${name}.weight`,
          self.trainable,
        ),
        bias: makeParameter(yield* self.upload(zeros, [channels]), `${name}.bias`, self.trainable),
        running: {
          mean: yield* self.upload(zeros, [channels]),
          variance: yield* self.upload(ones, [channels]),
        },
        tracked: 0,
      };
      const vector = (suffix: string, get: () => Tensor<"f32">, parameter?: () => Parameter) =>
        self.entries.set(`${name}.${suffix}`, {
          name: `${name}.${suffix}`,
          kind: "vector",
          torchShape: () => [channels],
          tensor: get,
          parameter,
        });
      vector("weight", () => layer.weight.value, () => layer.weight);
      vector("bias", () => layer.bias.value, () => layer.bias);
      vector("running_mean", () => layer.running.mean);
      vector("running_var", () => layer.running.variance);
      self.entries.set(`${name}.num_batches_tracked`, {
        name: `${name}.num_batches_tracked`,
        kind: "count",
        torchShape: () => [],
        tensor: () => {
          throw new TypeError(`${name}.num_batches_tracked lives on the host`);
        },
        count: { get: () => layer.tracked, set: (v) => (layer.tracked = v) },
      });
      return layer;
    });
  }
}

/** How batch norm runs in one forward. */
export interface NormContext {
  /** "train": batch statistics and running-stat update; "eval": running statistics. */
  readonly bnMode: BatchNormMode;
}

/** Applies a convolution layer. */
export const applyConv = (x: Node, layer: ConvLayer): GpuScoped<Node> =>
  conv2d(x, layer.weight, layer.bias, layer.options);

/** Applies a batch-norm layer (counting the batch in training mode, as PyTorch does). */
export const applyBatchNorm = (
  x: Node,
  bn: BatchNormLayer,
  ctx: NormContext,
  withRelu = false,
): GpuScoped<Node> => {
  if (ctx.bnMode === "train") bn.tracked++;
  return batchNorm(x, bn.weight, bn.bias, bn.running, { mode: ctx.bnMode, relu: withRelu });
};

/** conv -> batch norm -> (ReLU). */
export const convBn = (
  x: Node,
  conv: ConvLayer,
  bn: BatchNormLayer,
  ctx: NormContext,
  withRelu: boolean,
): GpuScoped<Node> =>
  Effect.gen(function* () {
    // The ReLU runs inside the batch-norm pass (and its mask inside the backward).
    return yield* applyBatchNorm(yield* applyConv(x, conv), bn, ctx, withRelu);
  });
