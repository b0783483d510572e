/**
 * Float64 reference for bilinear resizing of NHWC tensors with PyTorch's
 * `interpolate(mode="bilinear", align_corners=False)` given an output size:
 * half-pixel centres, scale = in / out, source coordinate clamped at 0.
 *
 * @module
 */

/** The two source taps of one output coordinate and their weights. */
export interface Taps {
  readonly i0: number;
  readonly i1: number;
  readonly w0: number;
  readonly w1: number;
}

/** Taps of output coordinate `o` on an axis resized from `input` to `output`. */
export const bilinearTaps = (o: number, input: number, output: number): Taps => {
  const scale = input / output;
  const src = Math.max((o + 0.5) * scale - 0.5, 0);
  const i0 = Math.min(Math.floor(src), input - 1);
  const i1 = i0 < input - 1 ? i0 + 1 : i0;
  const w1 = src - i0;
  return { i0, i1, w0: 1 - w1, w1 };
};

/** Bilinear resize of an NHWC tensor to [N, outH, outW, C]. */
export const resizeBilinearReference = (
  x: ArrayLike<number>,
  shape: readonly number[],
  outH: number,
  outW: number,
): Float64Array => {
  const [n, h, w, c] = shape;
  const y = new Float64Array(n * outH * outW * c);
  const at = (b: number, i: number, j: number, ch: number) => x[((b * h + i) * w + j) * c + ch];
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < outH; i++) {
      const ty = bilinearTaps(i, h, outH);
      for (let j = 0; j < outW; j++) {
        const tx = bilinearTaps(j, w, outW);
        for (let ch = 0; ch < c; ch++) {
          y[((b * outH + i) * outW + j) * c + ch] =
            ty.w0 * (tx.w0 * at(b, ty.i0, tx.i0, ch) + tx.w1 * at(b, ty.i0, tx.i1, ch)) +
            ty.w1 * (tx.w0 * at(b, ty.i1, tx.i0, ch) + tx.w1 * at(b, ty.i1, tx.i1, ch));
        }
      }
    }
  }
  return y;
};

/** Gradient of the bilinear resize: each output scatters dy to its four taps. */
export const resizeBilinearBackwardReference = (
  dy: ArrayLike<number>,
  inputShape: readonly number[],
  outH: number,
  outW: number,
): Float64Array => {
  const [n, h, w, c] = inputShape;
  const dx = new Float64Array(n * h * w * c);
  const add = (b: number, i: number, j: number, ch: number, v: number) => {
    dx[((b * h + i) * w + j) * c + ch] += v;
  };
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < outH; i++) {
      const ty = bilinearTaps(i, h, outH);
      for (let j = 0; j < outW; j++) {
        const tx = bilinearTaps(j, w, outW);
        for (let ch = 0; ch < c; ch++) {
          const g = dy[((b * outH + i) * outW + j) * c + ch];
          add(b, ty.i0, tx.i0, ch, ty.w0 * tx.w0 * g);
          add(b, ty.i0, tx.i1, ch, ty.w0 * tx.w1 * g);
          add(b, ty.i1, tx.i0, ch, ty.w1 * tx.w0 * g);
          add(b, ty.i1, tx.i1, ch, ty.w1 * tx.w1 * g);
        }
      }
    }
  }
  return dx;
};
