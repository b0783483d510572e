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
import { fillInto, full } from "../ops/core.ts";
import { add, axpyInto } from "../ops/elementwise.ts";
import { settleSplitSums, withSplitSumBatch } from "../ops/split_sum_batch.ts";
import { empty, fromArray, type Tensor } from "../tensor/tensor.ts";
import { GradientBuffers } from "./gradient_buffers.ts";

/** Effects of the autograd layer: GPU work inside a scope that owns the tensors. */
export type GpuScoped<A> = Effect.Effect<A, GpuError, Gpu | Scope.Scope>;

/**
 * Pushes the gradient of a node's output back to its parents: one entry per
 * parent, `undefined` where the parent needs no gradient. `into[i]`, when
 * given, is where parent i's gradient accumulates (a parameter's gradient
 * buffer): an op may add its gradient into it and return that very tensor,
 * which saves the copy; returning a tensor of its own is always correct.
 */
export type Backward = (
  gradOutput: Tensor<"f32">,
  into: readonly (Tensor<"f32"> | undefined)[],
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
  /** The parameter's tensor; a slice of an arena once packed (see `packParameters`). */
  value: Tensor<"f32">;
  /** Accumulated gradient; allocated on the first `backward` that reaches it. */
  grad: Tensor<"f32"> | undefined;
  /**
   * Where `backward` puts the gradient when it first reaches the parameter
   * (a zeroed slice of an optimizer's gradient arena); allocated when absent.
   */
  gradSlot?: Tensor<"f32">;
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

/** Options of {@link gradients}. */
export interface GradientOptions {
  /**
   * Return each gradient's buffer to the pool once its node has passed it on
   * (the returned map then holds released tensors for such nodes: only for
   * callers that read the sinks, as {@link backward} does).
   */
  readonly releaseConsumed?: boolean;
}

/**
 * Where the gradient of a node accumulates instead of in a tensor of the
 * walk's own (undefined: the walk keeps it). Called once per node, before the
 * first contribution; the tensor must hold what to add to (zeros at first).
 */
export type GradientSink = (node: Node) => GpuScoped<Tensor<"f32"> | undefined>;

/**
 * Gradients of `output` with respect to every node that needs one, seeded
 * with `seed` (default: ones, i.e. d sum(output)). Returns a map node ->
 * gradient; a node with a sink maps to its sink, which received every
 * contribution.
 */
export const gradients = (
  output: Node,
  seed?: Tensor<"f32">,
  sink?: GradientSink,
  options: GradientOptions = {},
): GpuScoped<Map<Node, Tensor<"f32">>> =>
  Effect.gen(function* () {
    const grads = new Map<Node, Tensor<"f32">>();
    const owned = new Set<Tensor<"f32">>();
    const sinks = new Map<Node, Tensor<"f32"> | undefined>();
    if (!output.requiresGrad) return grads;
    const order = topologicalOrder(output);
    const buffers = options.releaseConsumed ? new GradientBuffers(order, seed) : undefined;
    const sinkOf = (node: Node) =>
      Effect.gen(function* () {
        if (!sink) return undefined;
        if (!sinks.has(node)) {
          const target = yield* sink(node);
          if (target) buffers?.keep(target);
          sinks.set(node, target);
        }
        return sinks.get(node);
      });
    const set = (node: Node, g: Tensor<"f32">) => {
      buffers?.hold(g);
      grads.set(node, g);
    };
    // A scalar loss's seed is uploaded (a copy, not a dispatch); larger ones are filled.
    const ones = () =>
      output.value.elements === 1
        ? fromArray([1], output.value.shape, "f32")
        : full(output.value.shape, 1, "f32");
    set(output, seed ?? (yield* ones()));
    for (const node of order) {
      const g = grads.get(node);
      if (!g || !node.backward) continue;
      const into: (Tensor<"f32"> | undefined)[] = [];
      for (const parent of node.parents) {
        into.push(parent.requiresGrad ? yield* sinkOf(parent) : undefined);
      }
      // A split sum still pending on one of these gradients lands before the op adds to it.
      yield* settleSplitSums(into);
      const parentGrads = yield* node.backward(g, into);
      // Added into another gradient (returned afterwards, unless still held).
      const spent: Tensor<"f32">[] = [];
      // Replaced in the map by a sum (dropped afterwards).
      const replaced: Tensor<"f32">[] = [];
      for (let i = 0; i < node.parents.length; i++) {
        const parent = node.parents[i];
        const pg = parentGrads[i];
        if (!pg || !parent.requiresGrad) continue;
        const target = into[i];
        if (target) {
          // Written by the op itself, or added here.
          if (pg !== target) {
            yield* settleSplitSums([target]);
            yield* axpyInto(pg, target);
            spent.push(pg);
          }
          if (grads.get(parent) !== target) set(parent, target);
          continue;
        }
        const existing = grads.get(parent);
        if (!existing) set(parent, pg);
        else if (owned.has(existing)) {
          yield* axpyInto(pg, existing);
          spent.push(pg);
        } else {
          // Never write into a tensor an op handed back: it may alias a value.
          const summed = yield* add(existing, pg);
          set(parent, summed);
          owned.add(summed);
          replaced.push(existing);
          spent.push(pg);
        }
      }
      if (buffers) {
        // Every parent has its share: the node's own gradient is needed no more.
        for (const t of replaced) yield* buffers.drop(t);
        yield* buffers.drop(g);
        for (const t of spent) yield* buffers.consumed(t);
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
 * (its `gradSlot`, or a zeroed tensor allocated in `paramScope`, which must
 * outlive the step, on first use). Ops that can write straight into a
 * parameter's gradient do (see {@link Backward}).
 */
export const backward = (
  loss: Node,
  parameters: readonly Parameter[],
  paramScope: Scope.Scope,
): GpuScoped<void> =>
  Effect.gen(function* () {
    const wanted = new Set<Node>(parameters);
    // The filter gradients' split sums are batched (src/ops/split_sum_batch.ts)
    // and complete when the walk returns.
    yield* withSplitSumBatch(gradients(
      loss,
      undefined,
      (node) =>
        Effect.gen(function* () {
          if (!wanted.has(node)) return undefined;
          const p = node as Parameter;
          if (!p.grad && p.gradSlot) p.grad = p.gradSlot;
          else if (!p.grad) {
            p.grad = yield* Scope.provide(empty(p.value.shape, "f32"), paramScope);
            yield* fillInto(p.grad, 0);
          }
          return p.grad;
        }),
      { releaseConsumed: true },
    ));
  });
