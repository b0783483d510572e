/**
 * Float64 references for pooling over NHWC tensors: max pooling (PyTorch's
 * `max_pool2d`, padding counts as -inf, floor output size) with the argmax
 * of each output, its gradient, and global average pooling.
 *
 * @module
 */

/** Geometry of a square max pool. */
export interface PoolGeometry {
  readonly kernel: number;
  readonly stride: number;
  readonly padding: number;
}

/** Output extent of one spatial axis (PyTorch's floor mode, no dilation). */
export const poolOutputSize = (size: number, g: PoolGeometry): number =>
  Math.floor((size + 2 * g.padding - g.kernel) / g.stride) + 1;

/** Max pool result: values and, per output, the input pixel index h * W + w it took. */
export interface MaxPoolResult {
  readonly y: Float64Array;
  readonly argmax: Int32Array;
  readonly shape: readonly [number, number, number, number];
}

/**
 * Max pool of an NHWC tensor. Ties go to the first pixel of the window in
 * row-major order (smallest h, then smallest w), as PyTorch's CPU kernel.
 */
export const maxPoolReference = (
  x: ArrayLike<number>,
  shape: readonly number[],
  g: PoolGeometry,
): MaxPoolResult => {
  const [n, h, w, c] = shape;
  const oh = poolOutputSize(h, g);
  const ow = poolOutputSize(w, g);
  const y = new Float64Array(n * oh * ow * c);
  const argmax = new Int32Array(n * oh * ow * c);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity;
          let index = -1;
          for (let ki = 0; ki < g.kernel; ki++) {
            const hi = i * g.stride - g.padding + ki;
            if (hi < 0 || hi >= h) continue;
            for (let kj = 0; kj < g.kernel; kj++) {
              const wj = j * g.stride - g.padding + kj;
              if (wj < 0 || wj >= w) continue;
              const v = x[((b * h + hi) * w + wj) * c + ch];
              if (index < 0 || v > best) {
                best = v;
                index = hi * w + wj;
              }
            }
          }
          const o = ((b * oh + i) * ow + j) * c + ch;
          y[o] = best;
          argmax[o] = index;
        }
      }
    }
  }
  return { y, argmax, shape: [n, oh, ow, c] };
};

/** Gradient of max pool: each output's gradient goes to the pixel it took. */
export const maxPoolBackwardReference = (
  dy: ArrayLike<number>,
  argmax: ArrayLike<number>,
  inputShape: readonly number[],
  outputShape: readonly number[],
): Float64Array => {
  const [n, h, w, c] = inputShape;
  const perImage = outputShape[1] * outputShape[2] * c;
  const dx = new Float64Array(n * h * w * c);
  for (let o = 0; o < dy.length; o++) {
    const b = Math.floor(o / perImage);
    const ch = o % c;
    dx[(b * h * w + argmax[o]) * c + ch] += dy[o];
  }
  return dx;
};

/** Mean over H and W of an NHWC tensor: [N, H, W, C] -> [N, 1, 1, C]. */
export const globalAvgPoolReference = (
  x: ArrayLike<number>,
  shape: readonly number[],
): Float64Array => {
  const [n, h, w, c] = shape;
  const y = new Float64Array(n * c);
  for (let i = 0; i < x.length; i++) {
    const b = Math.floor(i / (h * w * c));
    y[b * c + (i % c)] += x[i];
  }
  return y.map((v) => v / (h * w));
};

/** Gradient of global average pooling: dy / (H W) broadcast over H and W. */
export const globalAvgPoolBackwardReference = (
  dy: ArrayLike<number>,
  inputShape: readonly number[],
): Float64Array => {
  const [n, h, w, c] = inputShape;
  const dx = new Float64Array(n * h * w * c);
  for (let i = 0; i < dx.length; i++) {
    const b = Math.floor(i / (h * w * c));
    dx[i] = dy[b * c + (i % c)] / (h * w);
  }
  return dx;
};
