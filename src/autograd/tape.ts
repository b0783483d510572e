/**
 * Reverse-mode autograd. Every differentiable op returns a {@link Node} that
 * remembers its parents and how to push an output gradient back to them; the
 * graph recorded by a forward pass is the tape. `grad` walks it backwards
 * from a scalar loss. Nodes built only from inputs that need no gradient
 * record nothing (no-grad mode for a frozen model falls out of this).
 *
 * @module
 */
import { Effect, Scope } from "effect";
import type { Gpu } from "../gpu/device.ts";
import type { GpuError } from "../gpu/errors.ts";
import { clone, fillInto, full } from "../ops/core.ts";
import { axpyInto } from "../ops/elementwise.ts";
import { empty, type Tensor } from "../tensor/tensor.ts";

/** Effects of the autograd layer: GPU work inside a scope that owns the tensors. */
export type GpuScoped<A> = Effect.Effect<A, GpuError, Gpu | Scope.Scope>;

/**
 * Pushes the gradient of a node's output back to its parents: one entry per
 * parent, `undefined` where the parent needs no gradient.
 */
export type Backward = (
  gradOutput: Tensor<"f32">,
) => GpuScoped<readonly (Tensor<"f32"> | undefined)[]>;

/** A value in the graph. */
export interface Node {
  readonly value: Tensor<"f32">;
  readonly requiresGrad: boolean;
  readonly parents: readonly Node[];
  readonly backward?: Backward;
  readonly name?: string;
}

/** A trainable parameter: a leaf whose gradient accumulates across `backward` calls. */
export interface Parameter extends Node {
  readonly name: string;
  /** Accumulated gradient; allocated on the first `backward` that reaches it. */
  grad: Tensor<"f32"> | undefined;
}

/** A leaf node (an input, or a frozen tensor when `requiresGrad` is false). */
export const constant = (value: Tensor<"f32">, name?: string): Node => ({
  value,
  requiresGrad: false,
  parents: [],
  name,
});

/** A parameter leaf; its `value` tensor should live in a scope that outlasts the steps. */
export const parameter = (value: Tensor<"f32">, name: string): Parameter => ({
  value,
  requiresGrad: true,
  parents: [],
  name,
  grad: undefined,
});

/**
 * Records an op's result. When no parent needs a gradient the node keeps no
 * backward and no parents, so the frozen old model builds no graph.
 */
export const record = (
  value: Tensor<"f32">,
  parents: readonly Node[],
  backward: Backward,
  name?: string,
): Node =>
  parents.some((p) => p.requiresGrad)
    ? { value, requiresGrad: true, parents, backward, name }
    : { value, requiresGrad: false, parents: [], name };

const topologicalOrder = (root: Node): Node[] => {
  const order: Node[] = [];
  const seen = new Set<Node>();
  // Iterative DFS: deep networks would overflow a recursive walk.
  const stack: { node: Node; next: number }[] = [{ node: root, next: 0 }];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.next < top.node.parents.length) {
      const parent = top.node.parents[top.next++];
      if (parent.requiresGrad && !seen.has(parent)) {
        seen.add(parent);
        stack.push({ node: parent, next: 0 });
      }
    } else {
      order.push(top.node);
      stack.pop();
    }
  }
  return order.reverse();
};

/**
 * Gradients of `output` with respect to every node that needs one, seeded
 * with `seed` (default: ones, i.e. d sum(output)). Returns a map node -> gradient.
 */
export const gradients = (
  output: Node,
  seed?: Tensor<"f32">,
): GpuScoped<Map<Node, Tensor<"f32">>> =>
  Effect.gen(function* () {
    const grads = new Map<Node, Tensor<"f32">>();
    const owned = new Set<Tensor<"f32">>();
    if (!output.requiresGrad) return grads;
    grads.set(output, seed ?? (yield* full(output.value.shape, 1, "f32")));
    for (const node of topologicalOrder(output)) {
      const g = grads.get(node);
      if (!g || !node.backward) continue;
      const parentGrads = yield* node.backward(g);
      for (let i = 0; i < node.parents.length; i++) {
        const parent = node.parents[i];
        const pg = parentGrads[i];
        if (!pg || !parent.requiresGrad) continue;
        const existing = grads.get(parent);
        if (!existing) grads.set(parent, pg);
        else if (owned.has(existing)) yield* axpyInto(pg, existing);
        else {
          // Never write into a tensor an op handed back: it may alias a value.
          const summed = yield* clone(existing);
          yield* axpyInto(pg, summed);
          grads.set(parent, summed);
          owned.add(summed);
        }
      }
    }
    return grads;
  });

/** Gradients of `output` with respect to `wrt`, in order (zeros where unreachable). */
export const grad = (
  output: Node,
  wrt: readonly Node[],
  seed?: Tensor<"f32">,
): GpuScoped<Tensor<"f32">[]> =>
  Effect.gen(function* () {
    const grads = yield* gradients(output, seed);
    const result: Tensor<"f32">[] = [];
    for (const node of wrt) {
      result.push(grads.get(node) ?? (yield* full(node.value.shape, 0, "f32")));
    }
    return result;
  });

/**
 * Back-propagates `loss` and adds the gradients into each parameter's `grad`
 * (allocated in `paramScope`, which must outlive the step, on first use).
 */
export const backward = (
  loss: Node,
  parameters: readonly Parameter[],
  paramScope: Scope.Scope,
): GpuScoped<void> =>
  Effect.gen(function* () {
    const grads = yield* gradients(loss);
    for (const p of parameters) {
      const g = grads.get(p);
      if (!g) continue;
      if (!p.grad) {
        p.grad = yield* Scope.provide(empty(p.value.shape, "f32"), paramScope);
        yield* fillInto(p.grad, 0);
      }
      yield* axpyInto(g, p.grad);
    }
  });
