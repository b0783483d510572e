/**
 * PLOP's local POD embedding (arthurdouillard/CVPR2021_PLOP train.py,
 * `_local_pod`) of a map [N, H, W, C]: optionally squared, then at every
 * spatial scale s split into s x s regions whose (channel, row) and
 * (channel, column) means over the region make the image's embedding
 * [N, D]. `podLayout` lists the strips; the kernels compute the embedding
 * and its map gradient. The node is `autograd/pod.ts`'s `podEmbedding`; the
 * losses built on it are in `incremental/losses/pod.ts`.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import { BindingError, type GpuError } from "../gpu/errors.ts";
import { defineKernel, linearGrid } from "../gpu/kernel.ts";
import { empty, fromArray, type Shape, type Tensor } from "../tensor/tensor.ts";
import commonSource from "../../shaders/pod/common.wgsl" with { type: "text" };
import embedSource from "../../shaders/pod/embed.wgsl" with { type: "text" };
import embedBackwardSource from "../../shaders/pod/embed_backward.wgsl" with { type: "text" };
import embedVec4Source from "../../shaders/pod/embed_vec4.wgsl" with { type: "text" };
import embedBackwardVec4Source from "../../shaders/pod/embed_backward_vec4.wgsl" with {
  type: "text",
};

const WG = 64;

const podParams = {
  images: "u32",
  height: "u32",
  width: "u32",
  channels: "u32",
  dims: "u32",
  strips: "u32",
  scale_count: "u32",
} as const;

/** Local POD embedding of a map, one value per invocation. */
export const podEmbedKernel = defineKernel({
  name: "shaders/pod/embed.wgsl",
  source: commonSource + embedSource,
  bindings: {
    map: { access: "read", type: "f32" },
    segments: { access: "read", type: "u32" },
    emb: { access: "read_write", type: "f32" },
  },
  params: podParams,
  constants: { POW: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: (p) => linearGrid(p.images * p.dims, WG),
  minElements: (p) => ({
    map: p.images * p.height * p.width * p.channels,
    segments: 6 * p.strips,
    emb: p.images * p.dims,
  }),
});

/** Map gradient of the local POD embedding, one map element per invocation. */
export const podEmbedBackwardKernel = defineKernel({
  name: "shaders/pod/embed_backward.wgsl",
  source: commonSource + embedBackwardSource,
  bindings: {
    map: { access: "read", type: "f32" },
    segments: { access: "read", type: "u32" },
    gemb: { access: "read", type: "f32" },
    dmap: { access: "read_write", type: "f32" },
  },
  params: podParams,
  constants: { POW: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: (p) => linearGrid(p.images * p.height * p.width * p.channels, WG),
  minElements: (p) => ({
    map: p.images * p.height * p.width * p.channels,
    segments: 6 * p.strips,
    gemb: p.images * p.dims,
    dmap: p.images * p.height * p.width * p.channels,
  }),
});

/** {@link podEmbedKernel} on channel quads (channels a multiple of 4), bit-identical. */
export const podEmbedVec4Kernel = defineKernel({
  name: "shaders/pod/embed_vec4.wgsl",
  source: commonSource + embedVec4Source,
  bindings: {
    map: { access: "read", type: "vec4f" },
    segments: { access: "read", type: "u32" },
    emb: { access: "read_write", type: "f32" },
  },
  params: podParams,
  constants: { POW: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: (p) => linearGrid(p.images * p.dims / 4, WG),
  minElements: podEmbedKernel.minElements,
});

/** {@link podEmbedBackwardKernel} on channel quads (channels a multiple of 4), bit-identical. */
export const podEmbedBackwardVec4Kernel = defineKernel({
  name: "shaders/pod/embed_backward_vec4.wgsl",
  source: commonSource + embedBackwardVec4Source,
  bindings: {
    map: { access: "read", type: "vec4f" },
    segments: { access: "read", type: "u32" },
    gemb: { access: "read", type: "f32" },
    dmap: { access: "read_write", type: "vec4f" },
  },
  params: podParams,
  constants: { POW: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: (p) => linearGrid(p.images * p.height * p.width * p.channels / 4, WG),
  minElements: (p) => ({
    ...podEmbedBackwardKernel.minElements(p, { POW: 0 }),
    segments: 6 * p.strips + 3 * p.scale_count,
  }),
});

let channelQuads = true;

/**
 * Whether the channel-quad POD kernels are taken where they apply (default
 * on); returns the previous setting. Tests switch them off to compare.
 */
export const setPodQuads = (on: boolean): boolean => {
  const previous = channelQuads;
  channelQuads = on;
  return previous;
};

/** Whether a map's POD runs on channel quads. */
const onQuads = (channels: number) => channelQuads && channels % 4 === 0;

/** Options of the local POD. */
export interface LocalPodOptions {
  /** Spatial scales (PLOP's spp_scales), or a count n for 1, 2, ..., 2^(n-1). Default [1, 2, 4]. */
  readonly scales?: number | readonly number[];
  /** L2-normalise each image's embedding before the distance (PLOP's runs: false). */
  readonly normalize?: boolean;
  /** "pow" squares the maps first (PLOP's default), "none" pools them as they are. */
  readonly prepro?: "pow" | "none";
}

const scaleList = (scales: LocalPodOptions["scales"]): readonly number[] =>
  typeof scales === "number"
    ? Array.from({ length: scales }, (_, i) => 2 ** i)
    : scales ?? [1, 2, 4];

/**
 * The strips of the embedding of an [H, W] map with C channels: six u32 per
 * strip (offset, kind, y0, y1, x0, x1), three per scale (its first strip, its
 * regions per side s, their side k: the region of pixel (y, x) is (y / k,
 * x / k) when both are below s) and the embedding length; a string says why
 * the layout is invalid.
 */
export const podLayout = (
  height: number,
  width: number,
  channels: number,
  scales: readonly number[],
): { table: Uint32Array; scales: Uint32Array; dims: number; strips: number } | string => {
  const table: number[] = [];
  const scaleTable: number[] = [];
  let offset = 0;
  for (const s of scales) {
    if (!Number.isInteger(s) || s < 1) return `scale ${s} is not a positive integer`;
    const k = Math.floor(width / s);
    scaleTable.push(table.length / 6, s, k);
    for (let i = 0; i < s; i++) {
      for (let j = 0; j < s; j++) {
        const y0 = Math.min(i * k, height);
        const y1 = Math.min((i + 1) * k, height);
        const x0 = Math.min(j * k, width);
        const x1 = Math.min((j + 1) * k, width);
        if (y1 <= y0 || x1 <= x0) {
          return `scale ${s} leaves region (${i}, ${j}) of a ${height}x${width} map empty`;
        }
        table.push(offset, 0, y0, y1, x0, x1);
        offset += channels * (y1 - y0);
        table.push(offset, 1, y0, y1, x0, x1);
        offset += channels * (x1 - x0);
      }
    }
  }
  return {
    table: Uint32Array.from(table),
    scales: Uint32Array.from(scaleTable),
    dims: offset,
    strips: table.length / 6,
  };
};

const nhwc = (shape: Shape) =>
  shape.length === 4 ? { n: shape[0], h: shape[1], w: shape[2], c: shape[3] } : undefined;

/** A POD embedding and what its backward reads. */
export interface PodEmbed {
  /** [N, D] the embedding. */
  readonly emb: Tensor<"f32">;
  /** The strip table the kernels read, then its scale records. */
  readonly segments: Tensor<"u32">;
  /** The kernels' parameters and constants. */
  readonly params: {
    readonly images: number;
    readonly height: number;
    readonly width: number;
    readonly channels: number;
    readonly dims: number;
    readonly strips: number;
    readonly scale_count: number;
  };
  readonly constants: { readonly POW: number };
}

/** PLOP's local POD embedding [N, D] of a map [N, H, W, C]. */
export const podEmbed = (
  map: Tensor<"f32">,
  options: LocalPodOptions = {},
): Effect.Effect<PodEmbed, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const fail = (reason: string) =>
      new BindingError({ kernel: podEmbedKernel.name, binding: "map", reason });
    const dims = nhwc(map.shape);
    if (!dims) return yield* fail(`expected [N, H, W, C], got [${map.shape.join(", ")}]`);
    const layout = podLayout(dims.h, dims.w, dims.c, scaleList(options.scales));
    if (typeof layout === "string") return yield* fail(layout);
    const gpu = yield* Gpu;
    // The strips, then the scale table (read by the channel-quad gradient).
    const table = new Uint32Array(layout.table.length + layout.scales.length);
    table.set(layout.table);
    table.set(layout.scales, layout.table.length);
    const segments = yield* fromArray(table, [table.length], "u32");
    const params = {
      images: dims.n,
      height: dims.h,
      width: dims.w,
      channels: dims.c,
      dims: layout.dims,
      strips: layout.strips,
      scale_count: layout.scales.length / 3,
    };
    const constants = { POW: (options.prepro ?? "pow") === "pow" ? 1 : 0 };
    const emb = yield* empty([dims.n, layout.dims], "f32");
    yield* onQuads(dims.c)
      ? gpu.recorder.dispatch(podEmbedVec4Kernel, { map, segments, emb }, params, constants)
      : gpu.recorder.dispatch(podEmbedKernel, { map, segments, emb }, params, constants);
    return { emb, segments, params, constants };
  });

/** Map gradient of {@link podEmbed} from the embedding's gradient `gemb` [N, D]. */
export const podEmbedBackward = (
  map: Tensor<"f32">,
  embed: PodEmbed,
  gemb: Tensor<"f32">,
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const dmap = yield* empty(map.shape, "f32");
    const bindings = { map, segments: embed.segments, gemb, dmap };
    yield* onQuads(embed.params.channels)
      ? gpu.recorder.dispatch(podEmbedBackwardVec4Kernel, bindings, embed.params, embed.constants)
      : gpu.recorder.dispatch(podEmbedBackwardKernel, bindings, embed.params, embed.constants);
    return dmap;
  });
