/**
 * Float64 references of the convolution family (see src/ops/conv.ts): direct
 * loops over the definition, NHWC activations and HWIO filters.
 *
 * @module
 */
import type { ConvGeometry } from "../../src/ops/conv.ts";

/** Calls `visit(xIndex, wIndex, yIndex)` for every multiply of the convolution. */
const forEachTap = (
  g: ConvGeometry,
  visit: (xIndex: number, wIndex: number, yIndex: number) => void,
): void => {
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        const yBase = ((n * g.outH + oh) * g.outW + ow) * g.outC;
        for (let kh = 0; kh < g.kH; kh++) {
          const ih = oh * g.strideH - g.padH + kh * g.dilH;
          if (ih < 0 || ih >= g.inH) continue;
          for (let kw = 0; kw < g.kW; kw++) {
            const iw = ow * g.strideW - g.padW + kw * g.dilW;
            if (iw < 0 || iw >= g.inW) continue;
            const xBase = ((n * g.inH + ih) * g.inW + iw) * g.inC;
            for (let co = 0; co < g.outC; co++) {
              const group = Math.floor(co / g.outCg);
              for (let ci = 0; ci < g.inCg; ci++) {
                visit(
                  xBase + group * g.inCg + ci,
                  ((kh * g.kW + kw) * g.inCg + ci) * g.outC + co,
                  yBase + co,
                );
              }
            }
          }
        }
      }
    }
  }
};

/** y = conv2d(x, w) + bias, as [N, Ho, Wo, Cout]. */
export const conv2dForwardReference = (
  g: ConvGeometry,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  bias?: ArrayLike<number>,
): Float64Array => {
  const y = new Float64Array(g.batch * g.outH * g.outW * g.outC);
  if (bias) { for (let i = 0; i < y.length; i++) y[i] = bias[i % g.outC]; }
  forEachTap(g, (xi, wi, yi) => {
    y[yi] += x[xi] * w[wi];
  });
  return y;
};

/** dx [N, H, W, Cin] from dy [N, Ho, Wo, Cout]: the adjoint of the forward in x. */
export const conv2dBackwardInputReference = (
  g: ConvGeometry,
  dy: ArrayLike<number>,
  w: ArrayLike<number>,
): Float64Array => {
  const dx = new Float64Array(g.batch * g.inH * g.inW * g.inC);
  forEachTap(g, (xi, wi, yi) => {
    dx[xi] += dy[yi] * w[wi];
  });
  return dx;
};

/** dw [KH, KW, Cin/groups, Cout]: the adjoint of the forward in w. */
export const conv2dBackwardFilterReference = (
  g: ConvGeometry,
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
): Float64Array => {
  const dw = new Float64Array(g.kH * g.kW * g.inCg * g.outC);
  forEachTap(g, (xi, wi, yi) => {
    dw[wi] += x[xi] * dy[yi];
  });
  return dw;
};

/** db [C]: dy summed over every pixel. */
export const conv2dBackwardBiasReference = (
  channels: number,
  dy: ArrayLike<number>,
): Float64Array => {
  const db = new Float64Array(channels);
  for (let i = 0; i < dy.length; i++) db[i % channels] += dy[i];
  return db;
};
