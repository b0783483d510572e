/**
 * Float64 references for masked sums and means over pixels (src/ops/masked.ts).
 *
 * @module
 */

/** A mask's weight for a pixel: f32 masks weigh by value, i32 masks select where nonzero. */
export const maskWeightReference = (mask: ArrayLike<number>, integer: boolean, p: number) =>
  integer ? (mask[p] !== 0 ? 1 : 0) : mask[p];

/** sum_p w_p x[p, c] (and / sum_p w_p for the mean, 0 when that is 0), per column c. */
export const maskedReduceReference = (
  op: "sum" | "mean",
  x: ArrayLike<number>,
  mask: ArrayLike<number>,
  integerMask = false,
): number[] => {
  const rows = mask.length;
  const cols = x.length / rows;
  const out = new Array<number>(cols).fill(0);
  let weight = 0;
  for (let p = 0; p < rows; p++) {
    const w = maskWeightReference(mask, integerMask, p);
    weight += w;
    if (w === 0) continue;
    for (let c = 0; c < cols; c++) out[c] += w * x[p * cols + c];
  }
  if (op === "mean") return out.map((v) => (weight === 0 ? 0 : v / weight));
  return out;
};

/** Gradient of {@link maskedReduceReference} with respect to x, for output gradient g. */
export const maskedReduceBackwardReference = (
  op: "sum" | "mean",
  g: ArrayLike<number>,
  mask: ArrayLike<number>,
  integerMask = false,
): number[] => {
  const rows = mask.length;
  const cols = g.length;
  let weight = 0;
  for (let p = 0; p < rows; p++) weight += maskWeightReference(mask, integerMask, p);
  const scale = op === "sum" ? 1 : weight === 0 ? 0 : 1 / weight;
  const dx = new Array<number>(rows * cols);
  for (let p = 0; p < rows; p++) {
    const w = maskWeightReference(mask, integerMask, p) * scale;
    for (let c = 0; c < cols; c++) dx[p * cols + c] = g[c] * w;
  }
  return dx;
};
