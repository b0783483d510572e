/**
 * The vec4 matmul reading A and B from texture copies (src/ops/matmul.ts
 * `matmulTuning.texturesOnCpu`) gives what storage-buffer reads give: the same
 * sums in the same order, so bit for bit on a CPU adapter (assertSameForm),
 * over random shapes, transposes, batches, accumulation and B packed or in place.
 */
import fc from "fast-check";
import { Effect } from "effect";
import { matmulTuning } from "../../src/ops/matmul.ts";
import { Gpu } from "../../src/gpu/device.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { assertSameForm, tracing } from "../support/tracing.ts";
import { type MatmulCase, matmulCaseProduct, matmulCases } from "../support/matmul_case.ts";

/** C for one case with textures on or off, and whether a texture kernel ran. */
const product = async (c: MatmulCase, textures: boolean) => {
  const saved = { cpu: matmulTuning.texturesOnCpu, gpu: matmulTuning.texturesOnGpu };
  matmulTuning.texturesOnCpu = textures;
  matmulTuning.texturesOnGpu = textures;
  try {
    return await runGpu(Effect.gen(function* () {
      const traced = yield* tracing(matmulCaseProduct(c));
      const texture = traced.kernels.some((k) => k.endsWith("+textures"));
      return { values: traced.result, texture, adapter: (yield* Gpu).adapter };
    }));
  } finally {
    matmulTuning.texturesOnCpu = saved.cpu;
    matmulTuning.texturesOnGpu = saved.gpu;
  }
};

Deno.test({
  name: "matmul through texture copies equals storage-buffer reads",
  ...gpuTestOptions,
  fn: async () => {
    let textured = 0;
    await fc.assert(
      fc.asyncProperty(
        matmulCases({
          m: fc.integer({ min: 1, max: 40 }).map((v) => v * 4),
          n: fc.oneof(fc.integer({ min: 1, max: 70 }), fc.constantFrom(128, 132, 192)),
          k: fc.oneof(fc.integer({ min: 1, max: 40 }).map((v) => v * 4), fc.constant(128)),
        }),
        async (c) => {
          const viaTextures = await product(c, true);
          const viaBuffers = await product(c, false);
          if (viaBuffers.texture) throw new Error("a texture kernel ran with textures off");
          if (viaTextures.texture) textured++;
          assertSameForm(
            viaTextures.values,
            viaBuffers.values,
            viaTextures.adapter,
            JSON.stringify(c),
          );
        },
      ),
      { seed: 20261201, numRuns: 40 },
    );
    if (textured < 20) throw new Error(`only ${textured} of 40 products read textures`);
  },
});
