/**
 * The register convolutions and filter gradients (vec4, and scalar-source for an RGB stem) reading their
 * operands from texture copies (src/ops/conv_tiled.ts `texturesOnCpu`) give
 * what the storage-buffer reads give: the same values in the same sums, so
 * bit for bit on a CPU adapter (assertSameForm). Random geometries of the
 * vec4 path (groups, strides, dilations, padding, part-empty blocks) and
 * tensors whose texture copy ends in a partial row or spans several rows.
 */
import fc from "fast-check";
import type { Conv2dOptions } from "../../src/ops/conv.ts";
import { withConvTuning } from "../../src/ops/conv_tiled.ts";
import { TEXTURE_ROW_TEXELS } from "../../src/gpu/kernel.ts";
import { gpuTestOptions } from "../support/gpu.ts";
import { assertSameForm } from "../support/tracing.ts";
import {
  type ConvOperands,
  drawOperands,
  registerGeometries,
  tracedPasses,
} from "../support/conv_cases.ts";
import { SeededRng } from "../../src/util/rng.ts";

/** The three passes of one case, with textures on or off, and the vec4 kernels dispatched. */
const passes = (
  textures: boolean,
  input: number[],
  filter: number[],
  options: Conv2dOptions,
  data: ConvOperands,
) =>
  withConvTuning(
    { texturesOnCpu: textures, texturesOnGpu: textures, scalarTexturesOnCpu: textures },
    async () => {
      const traced = await tracedPasses(input, filter, options, data);
      const kernels = traced.dispatches.map((d) => d.kernel)
        .filter((k) => /conv_vec4|filter_vec4|conv_out4|filter_out4/.test(k));
      return { ...traced, kernels };
    },
  );

/** Compares both forms of one case; returns how many vec4 dispatches read textures. */
const compare = async (input: number[], filter: number[], options: Conv2dOptions, seed: number) => {
  const data = drawOperands(new SeededRng(seed), input, filter, options);
  const viaTextures = await passes(true, input, filter, options, data);
  const viaBuffers = await passes(false, input, filter, options, data);
  const label = JSON.stringify({ input, filter, options });
  if (viaBuffers.kernels.some((k) => k.endsWith("+textures"))) {
    throw new Error(`${label}: a texture kernel ran with textures off`);
  }
  for (const key of ["y", "dx", "dw"] as const) {
    assertSameForm(viaTextures[key], viaBuffers[key], viaTextures.adapter, `${label} ${key}`);
  }
  return viaTextures.kernels.filter((k) => k.endsWith("+textures")).length;
};

Deno.test({
  name: "convolution through texture copies equals storage-buffer reads (forward, dx, dw)",
  ...gpuTestOptions,
  fn: async () => {
    let textured = 0;
    await fc.assert(
      fc.asyncProperty(registerGeometries, async (c) => {
        textured += await compare(c.input, c.filter, c.options, c.seed);
      }),
      { seed: 20261201, numRuns: 30 },
    );
    if (textured < 30) throw new Error(`only ${textured} dispatches read textures`);
  },
});

Deno.test({
  name: "an RGB stem (scalar source loads) through texture copies equals storage-buffer reads",
  ...gpuTestOptions,
  fn: async () => {
    const textured = await compare([2, 16, 16, 3], [7, 7, 3, 16], { stride: 2, padding: 3 }, 5);
    if (textured !== 2) {
      throw new Error(`${textured} of the stem's 2 scalar-source passes read textures`);
    }
  },
});

Deno.test({
  name: "texture copies spanning rows and ending in a partial row read back exactly",
  ...gpuTestOptions,
  fn: async () => {
    // x of 2 x 33 x 40 x 16 is 10560 texels: five full rows of 2048 and a partial sixth.
    const input = [2, 33, 40, 16];
    if (input.reduce((a, b) => a * b, 1) / 4 <= 5 * TEXTURE_ROW_TEXELS) {
      throw new Error("the case no longer spans several rows");
    }
    const textured = await compare(input, [3, 3, 16, 32], { padding: 1 }, 3);
    if (textured !== 3) throw new Error(`${textured} of 3 passes read textures`);
  },
});
