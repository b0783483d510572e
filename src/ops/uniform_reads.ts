/**
 * Whether kernels read their small read-only tensors (a filter of at most
 * 64 KiB, batch norm's per-channel statistics and parameters) as uniform
 * blocks (`via: "uniform"` bindings, src/gpu/kernel.ts)
 * on a CPU adapter. llvmpipe reads a uniform block with one vector gather,
 * where a storage-buffer read loops over the SIMD lanes and a texel fetch
 * adds texture addressing (bench/uniform_reads.ts); the values, and so the
 * results, are the same. GPUs keep storage buffers: there a uniform read
 * whose address differs across a warp is served one address at a time.
 *
 * @module
 */
import { UNIFORM_BINDING_BYTES } from "../gpu/kernel.ts";
import { envFlag } from "../util/env.ts";

/** The switch per adapter kind; tests and benchmarks may change it. */
export const uniformReads = {
  /** On a CPU adapter: on; `GSC_STORAGE_READS=1` turns it off for a process. */
  onCpu: !envFlag("GSC_STORAGE_READS"),
};

/**
 * Whether these f32 views (each at most 64 KiB, a whole number of vec4s) are
 * read as uniform blocks on this adapter.
 */
export const readUniform = (
  isFallback: boolean,
  ...views: readonly { readonly elements: number }[]
): boolean =>
  isFallback && uniformReads.onCpu &&
  views.every((v) => v.elements % 4 === 0 && v.elements * 4 <= UNIFORM_BINDING_BYTES);

/** The vec4 count of a view: the `quads` constant of its uniform binding. */
export const quadsOf = (view: { readonly elements: number }): number =>
  Math.ceil(view.elements / 4);
