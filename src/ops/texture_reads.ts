/**
 * Whether the memory-bound kernels (batch norm's single-pass kernels, the
 * filter gradient's split sum) read their large inputs through texture copies
 * (`via: "texture"` bindings, src/gpu/kernel.ts). On llvmpipe a texel fetch is
 * a vector gather and a storage-buffer load a loop over the SIMD lanes, which
 * without AVX-512 costs about 5x (bench/texture_loads.ts); the values, and so
 * the results, are the same. The convolution and matmul kernels have switches
 * of their own (`convTuning`, `matmulTuning`).
 *
 * @module
 */
import { fitsTexture } from "../gpu/kernel.ts";
import { envFlag } from "../util/env.ts";

/** The switch per adapter kind; tests and benchmarks may change it. */
export const textureReads = {
  /** On a CPU adapter: on; `GSC_BUFFER_READS=1` turns it off for a process. */
  onCpu: !envFlag("GSC_BUFFER_READS"),
  /** On a GPU: off until measured there; `GSC_TEXTURE_READS=1` turns it on. */
  onGpu: envFlag("GSC_TEXTURE_READS"),
};

/** Whether these f32 views are read through textures on this adapter (each must fit one). */
export const readThroughTextures = (
  isFallback: boolean,
  ...views: readonly { readonly elements: number; readonly offset?: number }[]
): boolean => (isFallback ? textureReads.onCpu : textureReads.onGpu) && views.every(fitsTexture);
