/**
 * Differentiable versions of the basic ops (elementwise, matmul, sums).
 * Each records its backward on the graph through {@link record}; this is
 * the pattern every op family's differentiable wrapper follows.
 *
 * @module
 */
import { Effect } from "effect";
import { binary, scale as scaleOp, unary } from "../ops/elementwise.ts";
import { matmul as matmulOp } from "../ops/matmul.ts";
import { reduce } from "../ops/reduce.ts";
import { full } from "../ops/core.ts";
import { reshape, type Shape } from "../tensor/tensor.ts";
import { type GpuScoped, type Node, record } from "./tape.ts";

/** a + b (same shapes). */
export const add = (a: Node, b: Node): GpuScoped<Node> =>
  Effect.map(
    binary("add", a.value, b.value),
    (value) => record(value, [a, b], (g) => Effect.succeed([g, g]), "add"),
  );

/**
 * relu(a + b) in one pass (a residual block's join); both inputs get the
 * output gradient where the output is positive.
 */
export const addRelu = (a: Node, b: Node): GpuScoped<Node> =>
  Effect.map(
    binary("addRelu", a.value, b.value),
    (value) =>
      record(value, [a, b], (g) =>
        Effect.map(binary("passWherePositive", g, value), (ga) => [ga, ga]), "addRelu"),
  );

/** a - b (same shapes). */
export const sub = (a: Node, b: Node): GpuScoped<Node> =>
  Effect.map(
    binary("sub", a.value, b.value),
    (value) => record(value, [a, b], (g) => Effect.map(scaleOp(g, -1), (ng) => [g, ng]), "sub"),
  );

/** a * b (same shapes). */
export const mul = (a: Node, b: Node): GpuScoped<Node> =>
  Effect.map(binary("mul", a.value, b.value), (value) =>
    record(value, [a, b], (g) =>
      Effect.all([
        a.requiresGrad ? binary("mul", g, b.value) : Effect.succeed(undefined),
        b.requiresGrad ? binary("mul", g, a.value) : Effect.succeed(undefined),
      ]), "mul"));

/** alpha * a. */
export const scale = (a: Node, alpha: number): GpuScoped<Node> =>
  Effect.map(
    scaleOp(a.value, alpha),
    (value) => record(value, [a], (g) => Effect.map(scaleOp(g, alpha), (ga) => [ga]), "scale"),
  );

/** max(a, 0); the gradient passes where the output is positive. */
export const relu = (a: Node): GpuScoped<Node> =>
  Effect.gen(function* () {
    const value = yield* unary("relu", a.value);
    return record(value, [a], (g) =>
      Effect.map(binary("passWherePositive", g, value), (ga) => [ga]), "relu");
  });

/** C = A B for 2-D A [m, k] and B [k, n]. */
export const matmul = (a: Node, b: Node): GpuScoped<Node> =>
  Effect.gen(function* () {
    const [m, k] = a.value.shape;
    const n = b.value.shape[1];
    const value = yield* matmulOp(a.value, b.value, { m, n, k });
    return record(value, [a, b], (g) =>
      Effect.all([
        // dA = G B^T, dB = A^T G
        a.requiresGrad
          ? matmulOp(g, b.value, { m, n: k, k: n, transB: true })
          : Effect.succeed(undefined),
        b.requiresGrad
          ? matmulOp(a.value, g, { m: k, n, k: m, transA: true })
          : Effect.succeed(undefined),
      ]), "matmul");
  });

/** Sum of all elements, as a [1] tensor. */
export const sumAll = (a: Node): GpuScoped<Node> =>
  Effect.gen(function* () {
    const flat = reshape(a.value, [a.value.elements]);
    const value = yield* reduce("sum", flat, 0);
    const total = reshape(value, [1]);
    return record(total, [a], (g) =>
      Effect.gen(function* () {
        // Broadcast the scalar gradient: 0 * a + g via the periodic binary op.
        const zeros = yield* full(a.value.shape, 0, "f32");
        return [yield* binary("add", zeros, g)];
      }), "sumAll");
  });

/** A node viewed with another shape (no copy); the gradient is viewed back. */
export const reshapeNode = (x: Node, shape: Shape): Node =>
  record(
    reshape(x.value, shape),
    [x],
    (g) => Effect.succeed([reshape(g, x.value.shape)]),
    "reshape",
  );
