/**
 * Dead filter taps: a tap whose every read falls in the zero padding adds
 * nothing to any output, nor to the input gradient, and its filter gradient
 * is zero. When only the centre tap of a dilated filter is live (ASPP's
 * dilated branches on a feature map smaller than their dilation), the
 * convolution is exactly a 1 x 1 convolution with the centre tap's filter
 * slice: the same sums without the zero terms, at 1 / (KH * KW) of the work.
 *
 * @module
 */
import type { Conv2dOptions, ConvGeometry } from "./conv_geometry.ts";

/** Whether tap `k` of one axis reads an input position for some output position. */
const tapIsLive = (
  k: number,
  inSize: number,
  outSize: number,
  stride: number,
  pad: number,
  dil: number,
): boolean => {
  // Input row of output o: o * stride - pad + k * dil; live when some o in [0, outSize) lands in [0, inSize).
  const first = k * dil - pad;
  const lowest = Math.max(0, Math.ceil(-first / stride));
  return lowest < outSize && lowest * stride + first < inSize;
};

/** The live taps of one axis, in order. */
export const liveTaps = (
  kSize: number,
  inSize: number,
  outSize: number,
  stride: number,
  pad: number,
  dil: number,
): number[] =>
  Array.from({ length: kSize }, (_, k) => k).filter((k) =>
    tapIsLive(k, inSize, outSize, stride, pad, dil)
  );

/** A convolution reduced to its one live tap: which tap, and the 1 x 1 convolution's options. */
export interface CentreTap {
  /** Index of the tap in the filter's first two axes (kh * KW + kw). */
  readonly tap: number;
  /** The 1 x 1 filter's shape [1, 1, Cin/groups, Cout]. */
  readonly filterShape: readonly [1, 1, number, number];
  /** Stride, padding and groups of the 1 x 1 convolution with the same output. */
  readonly options: Conv2dOptions;
}

/**
 * The 1 x 1 convolution equal to `g` when its centre tap is its only live
 * tap on both axes (and the filter is larger than 1 x 1); undefined otherwise.
 */
export const centreTapOnly = (g: ConvGeometry): CentreTap | undefined => {
  if (g.kH * g.kW === 1 || g.kH % 2 === 0 || g.kW % 2 === 0) return undefined;
  const ch = (g.kH - 1) / 2;
  const cw = (g.kW - 1) / 2;
  const rows = liveTaps(g.kH, g.inH, g.outH, g.strideH, g.padH, g.dilH);
  const cols = liveTaps(g.kW, g.inW, g.outW, g.strideW, g.padW, g.dilW);
  if (rows.length !== 1 || rows[0] !== ch || cols.length !== 1 || cols[0] !== cw) return undefined;
  // The centre tap of output o reads o * stride - pad + c * dil: a 1 x 1 convolution padded by
  // pad - c * dil (the output size is the same, since the centre is the filter's midpoint).
  const padH = g.padH - ch * g.dilH;
  const padW = g.padW - cw * g.dilW;
  if (padH < 0 || padW < 0) return undefined;
  return {
    tap: ch * g.kW + cw,
    filterShape: [1, 1, g.inCg, g.outC],
    options: { stride: [g.strideH, g.strideW], padding: [padH, padW], groups: g.groups },
  };
};
