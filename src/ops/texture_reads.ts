/**
 * Whether the memory-bound kernels (the filter gradient's split sum, bilinear
 * resize's quad kernels; batch norm's single-pass kernels and the
 * cross-entropy's rows where texture reads pay) read their large inputs
 * through texture copies
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
   * Kernels whose texture reads cost more than buffer reads with llvmpipe's
   * AVX-512 code and less with AVX2 alone, on a CPU adapter: they take
   * textures only without AVX-512; `GSC_TEXTURE_READS=1` turns them on. The
   * cross-entropy reads one f32 at a time, a texel's component a load
   * (0.56-0.92x with AVX-512 code, 1.3-1.9x with AVX2; bench/read_paths.ts);
   * PPR's correction reads every pixel's features against the same
   * prototypes (20 against 28 ms in a GSC step with AVX-512 code, 171
   * against 31 with AVX2); SSRD's two kernels read both models' logits one
   * f32 at a time (23 against 54 ms with AVX-512 code, 76 against 54 with
   * AVX2). Batch norm's one-pass kernels walk a channel quad's rows in order
   * (`bench/read_paths.ts` at a `small` step's 16x16 x 16 and 8x8 x 64
   * layers: buffers 0.85-0.98x the textures' time with AVX-512 code,
   * 1.31-1.90x with AVX2). The quad elementwise kernels of a `small` b8 64x64 OS8 step (the
   * arena SGD, 13 binary ops, 3 axpys, max pool's backward, batch norm's
   * chunked dx; `bench/model.ts --profile`): 17.8 ms from buffers against
   * 11.5 through textures with AVX2 code, 5.9 against 9.4 with AVX-512 code.
   */
  withoutAvx512OnCpu: !envFlag("GSC_BUFFER_READS") &&
    (envFlag("GSC_TEXTURE_READS") || !llvmpipeUsesAvx512()),
};

/**
 * Whether a kernel of {@link textureReads.withoutAvx512OnCpu} reads these
 * views through textures on this adapter (each must fit one).
 */
export const readThroughTexturesWithoutAvx512 = (
  isFallback: boolean,
  ...views: readonly { readonly elements: number; readonly offset?: number }[]
): boolean =>
  (isFallback ? textureReads.withoutAvx512OnCpu : textureReads.onGpu) && views.every(fitsTexture);

/** Whether these f32 views are read through textures on this adapter (each must fit one). */
export const readThroughTextures = (
  isFallback: boolean,
  ...views: readonly { readonly elements: number; readonly offset?: number }[]
): boolean => (isFallback ? textureReads.onCpu : textureReads.onGpu) && views.every(fitsTexture);
