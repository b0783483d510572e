/**
 * Which buffers a backward walk's gradients still need. A gradient goes back
 * to the pool as soon as no pending gradient shares its buffer, so a step's
 * peak holds the activations and the gradients in flight, not every
 * gradient of the walk. Buffers that are any node's value, the caller's
 * seed or a parameter's gradient are never returned.
 *
 * @module
 */
import { Effect } from "effect";
import type { Gpu } from "../gpu/device.ts";
import { release, type Tensor } from "../tensor/tensor.ts";

/** The graph's view of a node that this module needs. */
interface Valued {
  readonly value: Tensor<"f32">;
  readonly parents: readonly Valued[];
}

/** Reference counts of the buffers held by pending gradients. */
export class GradientBuffers {
  readonly #refs = new Map<GPUBuffer, number>();
  readonly #kept = new Set<GPUBuffer>();

  /** `nodes`: the walk's nodes (their values and their parents' are kept). */
  constructor(nodes: readonly Valued[], seed: Tensor<"f32"> | undefined) {
    for (const node of nodes) {
      this.#kept.add(node.value.buffer);
      for (const parent of node.parents) this.#kept.add(parent.value.buffer);
    }
    if (seed) this.#kept.add(seed.buffer);
  }

  /** Never returns `tensor`'s buffer (a parameter's gradient). */
  keep(tensor: Tensor<"f32">): void {
    this.#kept.add(tensor.buffer);
  }

  /** A pending gradient now holds `tensor`. */
  hold(tensor: Tensor<"f32">): void {
    this.#refs.set(tensor.buffer, (this.#refs.get(tensor.buffer) ?? 0) + 1);
  }

  /** A pending gradient let go of `tensor`: its buffer returns to the pool if nothing else needs it. */
  drop(tensor: Tensor<"f32">): Effect.Effect<void, never, Gpu> {
    const left = (this.#refs.get(tensor.buffer) ?? 1) - 1;
    if (left > 0) {
      this.#refs.set(tensor.buffer, left);
      return Effect.void;
    }
    this.#refs.delete(tensor.buffer);
    return this.#kept.has(tensor.buffer) ? Effect.void : release(tensor);
  }

  /** `tensor` was used up (added into another gradient): returned unless something holds it. */
  consumed(tensor: Tensor<"f32">): Effect.Effect<void, never, Gpu> {
    return this.#refs.has(tensor.buffer) || this.#kept.has(tensor.buffer)
      ? Effect.void
      : release(tensor);
  }
}
