/**
 * Float64 reference for concatenation along one axis, and its backward
 * (slicing the gradient back into one piece per input).
 *
 * @module
 */

/** Concatenates arrays of the given shapes along `axis` (negative counts from the end). */
export const concatReference = (
  inputs: readonly ArrayLike<number>[],
  shapes: readonly (readonly number[])[],
  axis = -1,
): Float64Array => {
  const rank = shapes[0].length;
  const at = axis < 0 ? rank + axis : axis;
  const outer = shapes[0].slice(0, at).reduce((a, b) => a * b, 1);
  const widths = shapes.map((s) => s.slice(at).reduce((a, b) => a * b, 1));
  const total = widths.reduce((a, b) => a + b, 0);
  const out = new Float64Array(outer * total);
  let offset = 0;
  inputs.forEach((x, k) => {
    for (let r = 0; r < outer; r++) {
      for (let j = 0; j < widths[k]; j++) out[r * total + offset + j] = x[r * widths[k] + j];
    }
    offset += widths[k];
  });
  return out;
};

/** Splits the gradient of a concatenation back into one array per input shape. */
export const concatBackwardReference = (
  dy: ArrayLike<number>,
  shapes: readonly (readonly number[])[],
  axis = -1,
): Float64Array[] => {
  const rank = shapes[0].length;
  const at = axis < 0 ? rank + axis : axis;
  const outer = shapes[0].slice(0, at).reduce((a, b) => a * b, 1);
  const widths = shapes.map((s) => s.slice(at).reduce((a, b) => a * b, 1));
  const total = widths.reduce((a, b) => a + b, 0);
  let offset = 0;
  return widths.map((width) => {
    const part = new Float64Array(outer * width);
    for (let r = 0; r < outer; r++) {
      for (let j = 0; j < width; j++) part[r * width + j] = dy[r * total + offset + j];
    }
    offset += width;
    return part;
  });
};
