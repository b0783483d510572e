/**
 * A model's named state: parameters (trainable leaves, or constants in a
 * frozen model) and batch-norm buffers, under torchvision's state-dict
 * names. Conv weights are HWIO in memory; checkpoints convert to OIHW.
 *
 * @module
 */
import { Effect, Scope } from "effect";
import { constant, type Node, type Parameter, parameter } from "../autograd/tape.ts";
import type { RunningStats } from "../autograd/norm.ts";
import { SeededRng } from "../data/rng.ts";
import type { Gpu } from "../gpu/device.ts";
import type { GpuError } from "../gpu/errors.ts";
import { fromArray, type Tensor } from "../tensor/tensor.ts";

/** A batch-norm layer's state. */
export interface BatchNormState {
  readonly weight: Node;
  readonly bias: Node;
  readonly running: RunningStats;
  /** Train-mode forwards so far (torchvision's `num_batches_tracked`). */
  batchesTracked: number;
}

/** The named state of a model. */
export class ParamStore {
  /** Parameters by name, in creation order. */
  readonly nodes = new Map<string, Node>();
  /** Batch-norm layers by prefix (`backbone.bn1`). */
  readonly norms = new Map<string, BatchNormState>();
  /** Names of 4-D conv weights (stored HWIO, OIHW on disk). */
  readonly convWeights = new Set<string>();

  constructor(
    readonly scope: Scope.Scope,
    readonly trainable: boolean,
    readonly seed: number,
  ) {}

  /** A leaf from host data: a Parameter when trainable, else a constant. */
  leaf(name: string, data: Float32Array, shape: readonly number[]) {
    const { scope, trainable, nodes } = this;
    return Effect.gen(function* () {
      const value = yield* Scope.provide(fromArray(data, shape, "f32"), scope);
      const node: Node = trainable ? parameter(value, name) : constant(value, name);
      nodes.set(name, node);
      return node;
    });
  }

  /** A conv weight [kh, kw, cin, cout] with Kaiming-normal (fan-out, ReLU) init, as torchvision. */
  conv(name: string, kh: number, kw: number, cin: number, cout: number) {
    const rng = new SeededRng(this.seed, name);
    const std = Math.sqrt(2 / (kh * kw * cout));
    const data = Float32Array.from({ length: kh * kw * cin * cout }, () => rng.normal() * std);
    this.convWeights.add(`${name}.weight`);
    return this.leaf(`${name}.weight`, data, [kh, kw, cin, cout]);
  }

  /** A batch-norm layer: weight 1, bias 0, running mean 0, variance 1. */
  batchNorm(name: string, channels: number): Effect.Effect<BatchNormState, GpuError, Gpu> {
    const leaf = (n: string, data: Float32Array) => this.leaf(n, data, [channels]);
    const { scope, norms } = this;
    return Effect.gen(function* () {
      const weight = yield* leaf(`${name}.weight`, new Float32Array(channels).fill(1));
      const bias = yield* leaf(`${name}.bias`, new Float32Array(channels));
      const mean = yield* Scope.provide(
        fromArray(new Float32Array(channels), [channels], "f32"),
        scope,
      );
      const variance = yield* Scope.provide(
        fromArray(new Float32Array(channels).fill(1), [channels], "f32"),
        scope,
      );
      const state: BatchNormState = {
        weight,
        bias,
        running: { mean, variance },
        batchesTracked: 0,
      };
      norms.set(name, state);
      return state;
    });
  }

  /** Every parameter node (Parameters when trainable). */
  parameters(): Parameter[] {
    return this.trainable ? [...this.nodes.values()] as Parameter[] : [];
  }

  /** Every named tensor of the state dict, buffers included. */
  tensors(): Map<string, Tensor<"f32">> {
    const out = new Map<string, Tensor<"f32">>();
    for (const [name, node] of this.nodes) out.set(name, node.value);
    for (const [name, bn] of this.norms) {
      out.set(`${name}.running_mean`, bn.running.mean);
      out.set(`${name}.running_var`, bn.running.variance);
    }
    return out;
  }
}
