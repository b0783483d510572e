/**
 * Float64 references of the axis reductions (see src/ops/reduce.ts).
 *
 * @module
 */
import type { ReduceOpName } from "../../src/ops/reduce.ts";

/** Reduces the middle axis of an [outer, axis, inner] view. */
export const reduceReference = (
  op: ReduceOpName,
  a: ArrayLike<number>,
  outer: number,
  axis: number,
  inner: number,
): Float64Array => {
  const out = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let acc = op === "max" ? -Infinity : 0;
      for (let k = 0; k < axis; k++) {
        const v = a[(o * axis + k) * inner + i];
        acc = op === "max" ? Math.max(acc, v) : acc + v;
      }
      out[o * inner + i] = op === "mean" ? acc / axis : acc;
    }
  }
  return out;
};

/** First index of the maximum along the middle axis. */
export const argmaxReference = (
  a: ArrayLike<number>,
  outer: number,
  axis: number,
  inner: number,
): Int32Array => {
  const out = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = -Infinity;
      let index = 0;
      for (let k = 0; k < axis; k++) {
        const v = a[(o * axis + k) * inner + i];
        if (v > best) {
          best = v;
          index = k;
        }
      }
      out[o * inner + i] = index;
    }
  }
  return out;
};
