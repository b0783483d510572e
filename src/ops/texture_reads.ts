/**
 * Whether the memory-bound kernels (batch norm's single-pass kernels, the
 * filter gradient's split sum, the cross-entropy's rows where scalar texture
 * reads pay) read their large inputs through texture copies
 * (`via: "texture"` bindings, src/gpu/kernel.ts). On llvmpipe a texel fetch is
 * a vector gather and a storage-buffer load a loop over the SIMD lanes, which
 * without AVX-512 costs about 5x (bench/texture_loads.ts); the values, and so
 * the results, are the same. The convolution and matmul kernels have switches
 * of their own (`convTuning`, `matmulTuning`).
 *
 * @module
 */
import { fitsTexture } from "../gpu/kernel.ts";
import { llvmpipeUsesAvx512 } from "../util/cpu.ts";
import { envFlag } from "../util/env.ts";

/** The switch per adapter kind; tests and benchmarks may change it. */
export const textureReads = {
  /** On a CPU adapter: on; `GSC_BUFFER_READS=1` turns it off for a process. */
  onCpu: !envFlag("GSC_BUFFER_READS"),
  /** On a GPU: off until measured there; `GSC_TEXTURE_READS=1` turns it on. */
  onGpu: envFlag("GSC_TEXTURE_READS"),
  /**
   * Kernels that read one f32 at a time (a texel's component a load: the
   * cross-entropy's rows) on a CPU adapter. With llvmpipe's AVX-512 code that
   * costs more than buffer loads (the cross-entropy's kernels 0.54-0.92x),
   * with AVX2 alone less (1.3-1.9x; bench/read_paths.ts), so they take
   * textures only without AVX-512; `GSC_TEXTURE_READS=1` turns them on.
   */
  scalarsOnCpu: !envFlag("GSC_BUFFER_READS") &&
    (envFlag("GSC_TEXTURE_READS") || !llvmpipeUsesAvx512()),
};

/**
 * Whether a kernel reading these f32 views one element at a time reads them
 * through textures on this adapter (each must fit one).
 */
export const readScalarsThroughTextures = (
  isFallback: boolean,
  ...views: readonly { readonly elements: number; readonly offset?: number }[]
): boolean =>
  (isFallback ? textureReads.scalarsOnCpu : textureReads.onGpu) && views.every(fitsTexture);

/** Whether these f32 views are read through textures on this adapter (each must fit one). */
export const readThroughTextures = (
  isFallback: boolean,
  ...views: readonly { readonly elements: number; readonly offset?: number }[]
): boolean => (isFallback ? textureReads.onCpu : textureReads.onGpu) && views.every(fitsTexture);
