/**
 * The geometry of a 2-D convolution (output size, padding, stride, dilation,
 * groups, per spatial axis), its FLOPs, and which kernel of the menu a pass
 * takes (see conv.ts).
 *
 * @module
 */
import { Effect } from "effect";
import { BindingError } from "../gpu/errors.ts";
import type { Shape, Tensor } from "../tensor/tensor.ts";

/** A size given once for both spatial axes or as [height, width]. */
export type PerAxis = number | readonly [number, number];

/** Convolution hyper-parameters; every field defaults to the plain convolution. */
export interface Conv2dOptions {
  /** Step between output pixels (default 1). */
  readonly stride?: PerAxis;
  /** Zero padding added on both sides of each axis (default 0). */
  readonly padding?: PerAxis;
  /** Spacing between filter taps (default 1). */
  readonly dilation?: PerAxis;
  /** Channel groups; Cin and Cout must be multiples (default 1; C for depthwise). */
  readonly groups?: number;
}

/** Every size of one convolution, resolved from the input and filter shapes. */
export interface ConvGeometry {
  readonly batch: number;
  readonly inH: number;
  readonly inW: number;
  readonly inC: number;
  readonly outH: number;
  readonly outW: number;
  readonly outC: number;
  readonly kH: number;
  readonly kW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
  readonly dilH: number;
  readonly dilW: number;
  readonly groups: number;
  /** Input channels per group (the filter's third axis). */
  readonly inCg: number;
  /** Output channels per group. */
  readonly outCg: number;
}

const pair = (value: PerAxis | undefined, fallback: number): readonly [number, number] =>
  value === undefined ? [fallback, fallback] : typeof value === "number" ? [value, value] : value;

/**
 * Resolves the geometry of a convolution of an NHWC input with an HWIO
 * filter; throws a RangeError naming the first inconsistency.
 */
export const conv2dGeometry = (
  inputShape: Shape,
  filterShape: Shape,
  options: Conv2dOptions = {},
): ConvGeometry => {
  if (inputShape.length !== 4 || filterShape.length !== 4) {
    throw new RangeError(`conv2d needs a 4-D NHWC input and HWIO filter`);
  }
  const [batch, inH, inW, inC] = inputShape;
  const [kH, kW, inCg, outC] = filterShape;
  const [strideH, strideW] = pair(options.stride, 1);
  const [padH, padW] = pair(options.padding, 0);
  const [dilH, dilW] = pair(options.dilation, 1);
  const groups = options.groups ?? 1;
  const all = [batch, inH, inW, inC, kH, kW, inCg, outC, strideH, strideW, dilH, dilW, groups];
  if (all.some((v) => !Number.isInteger(v) || v < 1) || !(padH >= 0 && padW >= 0)) {
    throw new RangeError(`invalid conv2d sizes: input [${inputShape}], filter [${filterShape}]`);
  }
  if (inC % groups !== 0 || outC % groups !== 0 || inC / groups !== inCg) {
    throw new RangeError(
      `conv2d groups: ${groups} groups do not split Cin ${inC} into filters of ${inCg} and Cout ${outC}`,
    );
  }
  const outH = Math.floor((inH + 2 * padH - dilH * (kH - 1) - 1) / strideH) + 1;
  const outW = Math.floor((inW + 2 * padW - dilW * (kW - 1) - 1) / strideW) + 1;
  if (outH < 1 || outW < 1) throw new RangeError(`conv2d output would be empty`);
  return {
    batch,
    inH,
    inW,
    inC,
    outH,
    outW,
    outC,
    kH,
    kW,
    strideH,
    strideW,
    padH,
    padW,
    dilH,
    dilW,
    groups,
    inCg,
    outCg: outC / groups,
  }; // deno-fmt-ignore
};

/** FLOPs of one of the three passes (forward, input or filter gradient). */
export const conv2dFlops = (g: ConvGeometry): number =>
  2 * g.batch * g.outH * g.outW * g.outC * g.kH * g.kW * g.inCg;

/** {@link conv2dGeometry} as an Effect: a bad shape is a BindingError naming conv2d. */
export const geometry = (
  inputShape: Shape,
  filterShape: Shape,
  options: Conv2dOptions,
): Effect.Effect<ConvGeometry, BindingError> =>
  Effect.try({
    try: () => conv2dGeometry(inputShape, filterShape, options),
    catch: (e) => new BindingError({ kernel: "conv2d", binding: "x", reason: String(e) }),
  });

/** Fails unless `tensor` has the elements of `shape` (a BindingError naming `binding`). */
export const checkShape = (tensor: Tensor, shape: Shape, binding: string) =>
  tensor.elements === shape.reduce((a, b) => a * b, 1) ? Effect.void : Effect.fail(
    new BindingError({
      kernel: "conv2d",
      binding,
      reason: `expected [${shape}] (${
        shape.reduce((a, b) => a * b, 1)
      } elements), got [${tensor.shape}]`,
    }),
  );

/** Whether the convolution is a matmul over pixels: 1x1, stride 1, no padding, one group. */
export const isPointwise = (g: ConvGeometry): boolean =>
  g.kH === 1 && g.kW === 1 && g.strideH === 1 && g.strideW === 1 && g.padH === 0 &&
  g.padW === 0 && g.groups === 1;

/** Whether the depthwise kernel applies (one input and one output channel per group). */
export const isDepthwise = (g: ConvGeometry): boolean =>
  g.inCg === 1 && g.outCg === 1 && g.outC % 4 === 0;

/** Which kernel the menu picks for a pass (exposed for tests and benchmarks). */
export type ConvPath = "pointwise" | "depthwise" | "vec4" | "general";

/**
 * The kernel the menu picks for the forward pass or the input gradient. A
 * pointwise convolution with channels in multiples of 4 takes the vec4 tile,
 * which is then a plain GEMM over pixels: on llvmpipe it runs about as fast
 * as matmulInto at [N*H*W, Cin] x [Cin, Cout] shapes (within 10%, either way
 * by shape) and adds the bias in the same pass.
 */
export const convPath = (g: ConvGeometry): ConvPath => {
  const vec4 = g.inCg % 4 === 0 && g.outCg % 4 === 0;
  if (isPointwise(g)) return vec4 ? "vec4" : "pointwise";
  if (isDepthwise(g)) return "depthwise";
  return vec4 ? "vec4" : "general";
};
