/**
 * Float64 references of the elementwise ops (see src/ops/elementwise.ts).
 *
 * @module
 */
import type { BinaryOpName, UnaryOpName } from "../../src/ops/elementwise.ts";

/** a (op) b[i % b.length]. */
export const binaryReference = (
  op: BinaryOpName,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): Float64Array => {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i % b.length];
    out[i] = op === "add"
      ? x + y
      : op === "sub"
      ? x - y
      : op === "mul"
      ? x * y
      : op === "div"
      ? x / y
      : op === "max"
      ? Math.max(x, y)
      : op === "min"
      ? Math.min(x, y)
      : op === "addRelu"
      ? Math.max(x + y, 0)
      : (y > 0 ? x : 0);
  }
  return out;
};

/** f(a) elementwise; alpha, beta parameterise scaleShift. */
export const unaryReference = (
  op: UnaryOpName,
  a: ArrayLike<number>,
  alpha = 1,
  beta = 0,
): Float64Array => {
  const f: Record<UnaryOpName, (x: number) => number> = {
    scaleShift: (x) => alpha * x + beta,
    relu: (x) => Math.max(x, 0),
    exp: Math.exp,
    log: Math.log,
    neg: (x) => -x,
    abs: Math.abs,
    sqrt: Math.sqrt,
    square: (x) => x * x,
  };
  return Float64Array.from(a as ArrayLike<number>, f[op]);
};

/** y + alpha * x[i % x.length]. */
export const axpyReference = (
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  alpha: number,
): Float64Array => Float64Array.from(y as ArrayLike<number>, (v, i) => v + alpha * x[i % x.length]);
