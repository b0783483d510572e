/**
 * Distances between two NHWC tensors per pixel over channels (squared L2,
 * L2, cosine distance with an eps guarding zero norms), reduced like a loss
 * (none / sum / mean over pixels), with gradients for both inputs; and
 * L2-normalisation over channels with its backward.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import { BindingError, type GpuError } from "../gpu/errors.ts";
import { defineKernel, linearGrid } from "../gpu/kernel.ts";
import { empty, type Tensor } from "../tensor/tensor.ts";
import { channelView } from "./softmax.ts";
import { reduceLossRows, type Reduction, reductionCode, upstreamWgsl } from "./loss.ts";
import forwardSource from "../../shaders/distance/distance_forward.wgsl" with { type: "text" };
import backwardSource from "../../shaders/distance/distance_backward.wgsl" with { type: "text" };
import normalizeSource from "../../shaders/distance/normalize.wgsl" with { type: "text" };
import normalizeBackwardSource from "../../shaders/distance/normalize_backward.wgsl" with {
  type: "text",
};
import unitsF32Source from "../../shaders/distance/units_f32.wgsl" with { type: "text" };
import unitsVec4Source from "../../shaders/distance/units_vec4.wgsl" with { type: "text" };

const WG = 64;

/** Distances by their OP code in the shaders. */
export const DistanceKind = { l2Squared: 0, l2: 1, cosine: 2 } as const;
/** Name of a distance. */
export type DistanceKindName = keyof typeof DistanceKind;

/** Default eps of the cosine distance and the normalisation (as PyTorch's cosine_similarity). */
export const DEFAULT_EPS = 1e-8;

const rowParams = { pixels: "u32", channels: "u32", eps: "f32" } as const;

/**
 * The four kernels in one form: channels one f32 at a time, or (`quads`,
 * channels a multiple of 4) four at a time as vec4, with every sum in the
 * same order (units_vec4.wgsl), so the two forms agree bit for bit. The quad
 * form makes a quarter of the loads and loop iterations: it pays for the
 * prototypes' normalisation (many pixels of 64 features); POD's per-image rows
 * (8 rows of up to 14336 channels) gained nothing (README, Benchmarks).
 */
const kernelsOf = (quads: boolean) => {
  const type = quads ? "vec4f" : "f32";
  const read = { access: "read", type } as const;
  const write = { access: "read_write", type } as const;
  const units = quads ? unitsVec4Source : unitsF32Source;
  const suffix = quads ? "<vec4>" : "";
  return {
    forward: defineKernel({
      name: `shaders/distance/distance_forward.wgsl${suffix}`,
      source: units + forwardSource,
      bindings: { a: read, b: read, out: { access: "read_write", type: "f32" } },
      params: rowParams,
      constants: { OP: "u32" },
      workgroupSize: [WG, 1, 1],
      dispatch: ({ pixels }) => linearGrid(pixels, WG),
      minElements: ({ pixels, channels }) => ({
        a: pixels * channels,
        b: pixels * channels,
        out: pixels,
      }),
    }),
    backward: defineKernel({
      name: `shaders/distance/distance_backward.wgsl${suffix}`,
      source: units + upstreamWgsl + backwardSource,
      bindings: {
        a: read,
        b: read,
        grad: { access: "read", type: "f32" },
        totals: { access: "read", type: "f32" },
        da: write,
        db: write,
      },
      params: { ...rowParams, den_index: "u32" },
      constants: { OP: "u32", REDUCTION: "u32" },
      workgroupSize: [WG, 1, 1],
      dispatch: ({ pixels }) => linearGrid(pixels, WG),
      minElements: ({ pixels, channels, den_index }, { REDUCTION }) => ({
        a: pixels * channels,
        b: pixels * channels,
        grad: REDUCTION === 0 ? pixels : 1,
        totals: REDUCTION === 2 ? den_index + 1 : 0,
        da: pixels * channels,
        db: pixels * channels,
      }),
    }),
    normalize: defineKernel({
      name: `shaders/distance/normalize.wgsl${suffix}`,
      source: units + normalizeSource,
      bindings: { a: read, y: write },
      params: rowParams,
      workgroupSize: [WG, 1, 1],
      dispatch: ({ pixels }) => linearGrid(pixels, WG),
      minElements: ({ pixels, channels }) => ({ a: pixels * channels, y: pixels * channels }),
    }),
    normalizeBackward: defineKernel({
      name: `shaders/distance/normalize_backward.wgsl${suffix}`,
      source: units + normalizeBackwardSource,
      bindings: { a: read, g: read, da: write },
      params: rowParams,
      workgroupSize: [WG, 1, 1],
      dispatch: ({ pixels }) => linearGrid(pixels, WG),
      minElements: ({ pixels, channels }) => ({
        a: pixels * channels,
        g: pixels * channels,
        da: pixels * channels,
      }),
    }),
  };
};

/** The distance and normalisation kernels reading channels one f32 at a time. */
export const distanceKernels = kernelsOf(false);
/** The same kernels reading channels as vec4 (channels a multiple of 4), bit-identical. */
export const distanceQuadKernels = kernelsOf(true);

let channelQuads = true;

/**
 * Whether the vec4 form is taken where the channels allow it (default on);
 * returns the previous setting. Tests switch it off to compare the forms.
 */
export const setDistanceQuads = (on: boolean): boolean => {
  const previous = channelQuads;
  channelQuads = on;
  return previous;
};

/** The form for `channels`: vec4 when they come in quads and the switch is on. */
const formFor = (channels: number) =>
  channelQuads && channels % 4 === 0 ? distanceQuadKernels : distanceKernels;

/** Options of the distances. */
export interface DistanceOptions {
  /** Default "mean" over pixels. */
  readonly reduction?: Reduction;
  /** Smallest norm of the cosine distance's inputs. Default {@link DEFAULT_EPS}. */
  readonly eps?: number;
}

/** Result of {@link distance}. */
export interface DistanceResult {
  /** [1] for sum and mean; the per-pixel map [N, H, W] for none. */
  readonly value: Tensor<"f32">;
  /** [2] f32: the distance sum, the pixel count (read by the backward). */
  readonly totals: Tensor<"f32">;
}

// Column of the pixel count in the totals.
const COUNT_COLUMN = 1;

const checkPair = (kernel: string, a: Tensor<"f32">, b: Tensor<"f32">) => {
  const view = channelView(a.shape);
  if (view.channels === 0 || a.shape.join() !== b.shape.join()) {
    return new BindingError({
      kernel,
      binding: "b",
      reason: `shapes [${a.shape.join(", ")}] and [${b.shape.join(", ")}] differ or are empty`,
    });
  }
  return view;
};

/** Distance between `a` and `b` per pixel over the last (channel) axis, reduced. */
export const distance = (
  kind: DistanceKindName,
  a: Tensor<"f32">,
  b: Tensor<"f32">,
  options: DistanceOptions = {},
): Effect.Effect<DistanceResult, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const view = checkPair(distanceKernels.forward.name, a, b);
    if (view instanceof BindingError) return yield* view;
    const gpu = yield* Gpu;
    const map = yield* empty([view.pixels, 1], "f32");
    yield* gpu.recorder.dispatch(
      formFor(view.channels).forward,
      { a, b, out: map },
      { ...view, eps: options.eps ?? DEFAULT_EPS },
      { OP: DistanceKind[kind] },
    );
    const mapShape = a.shape.length > 1 ? a.shape.slice(0, -1) : [1];
    const reduction = options.reduction ?? "mean";
    const r = yield* reduceLossRows(map, view.pixels, 1, reduction, COUNT_COLUMN, mapShape);
    return { value: r.value, totals: r.totals };
  });

/** sum_c (a - b)^2 per pixel, reduced (mean over pixels by default). */
export const l2SquaredDistance = (a: Tensor<"f32">, b: Tensor<"f32">, options?: DistanceOptions) =>
  distance("l2Squared", a, b, options);

/** 1 - cos(a_p, b_p) per pixel, reduced (mean over pixels by default). */
export const cosineDistance = (a: Tensor<"f32">, b: Tensor<"f32">, options?: DistanceOptions) =>
  distance("cosine", a, b, options);

/** Gradients of {@link distance} with respect to a and b, from `grad` and the forward's totals. */
export const distanceBackward = (
  kind: DistanceKindName,
  a: Tensor<"f32">,
  b: Tensor<"f32">,
  grad: Tensor<"f32">,
  totals: Tensor<"f32">,
  options: DistanceOptions = {},
): Effect.Effect<{ a: Tensor<"f32">; b: Tensor<"f32"> }, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const view = checkPair(distanceKernels.backward.name, a, b);
    if (view instanceof BindingError) return yield* view;
    const gpu = yield* Gpu;
    const da = yield* empty(a.shape, "f32");
    const db = yield* empty(b.shape, "f32");
    yield* gpu.recorder.dispatch(
      formFor(view.channels).backward,
      { a, b, grad, totals, da, db },
      { ...view, eps: options.eps ?? DEFAULT_EPS, den_index: COUNT_COLUMN },
      { OP: DistanceKind[kind], REDUCTION: reductionCode(options.reduction ?? "mean") },
    );
    return { a: da, b: db };
  });

/** a / max(|a|, eps) per pixel over the last (channel) axis. */
export const l2Normalize = (
  a: Tensor<"f32">,
  eps = DEFAULT_EPS,
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const view = checkPair(distanceKernels.normalize.name, a, a);
    if (view instanceof BindingError) return yield* view;
    const gpu = yield* Gpu;
    const y = yield* empty(a.shape, "f32");
    yield* gpu.recorder.dispatch(formFor(view.channels).normalize, { a, y }, { ...view, eps });
    return y;
  });

/** Gradient of {@link l2Normalize} with respect to `a`, from the output gradient `g`. */
export const l2NormalizeBackward = (
  a: Tensor<"f32">,
  g: Tensor<"f32">,
  eps = DEFAULT_EPS,
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const view = checkPair(distanceKernels.normalizeBackward.name, a, g);
    if (view instanceof BindingError) return yield* view;
    const gpu = yield* Gpu;
    const da = yield* empty(a.shape, "f32");
    yield* gpu.recorder.dispatch(formFor(view.channels).normalizeBackward, { a, g, da }, {
      ...view,
      eps,
    });
    return da;
  });
