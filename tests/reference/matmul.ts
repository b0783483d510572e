/**
 * Float64 reference of the batched matmul (see src/ops/matmul.ts).
 *
 * @module
 */
import type { MatmulSpec } from "../../src/ops/matmul.ts";

/** C = op(A) op(B) for each batch entry, with the spec's strides and transposes. */
export const matmulReference = (
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  spec: MatmulSpec,
  c?: ArrayLike<number>,
): Float64Array => {
  const { m, n, k } = spec;
  const batch = spec.batch ?? 1;
  const strideA = spec.strideA ?? m * k;
  const strideB = spec.strideB ?? k * n;
  const strideC = spec.strideC ?? m * n;
  const out = new Float64Array((batch - 1) * strideC + m * n);
  if (c) out.set(Array.from(c).slice(0, out.length));
  for (let t = 0; t < batch; t++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) {
          const av = spec.transA ? a[t * strideA + p * m + i] : a[t * strideA + i * k + p];
          const bv = spec.transB ? b[t * strideB + j * k + p] : b[t * strideB + p * n + j];
          acc += av * bv;
        }
        const at = t * strideC + i * n + j;
        out[at] = spec.accumulate ? out[at] + acc : acc;
      }
    }
  }
  return out;
};
