/**
 * The cross-entropy kernels (plain and MiB's unbiased form, forward and
 * backward) reading their logits through a texture copy give what
 * storage-buffer reads give: the same values, bit for bit on a CPU adapter
 * (`assertSameForm`), on random shapes with ignored, bad and weighted pixels.
 * `textureReads.withoutAvx512OnCpu` picks the texture form only where llvmpipe has
 * no AVX-512 code, so the test switches it on and off itself. The plain
 * cross-entropy's channel-quad kernels (C % 4 == 0) equal the per-channel
 * ones the same way, through either read.
 */
import fc from "fast-check";
import { Effect } from "effect";
import { Gpu } from "../../src/gpu/device.ts";
import {
  crossEntropy,
  crossEntropyBackward,
  setCrossEntropyQuads,
  unbiasedCrossEntropy,
  unbiasedCrossEntropyBackward,
} from "../../src/ops/cross_entropy.ts";
import { textureReads } from "../../src/ops/texture_reads.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { SeededRng } from "../../src/util/rng.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { assertSameForm, tracing } from "../support/tracing.ts";

/** The six outputs compared, in order. */
const NAMES = [
  "loss",
  "dz",
  "loss (weighted, all)",
  "dz (weighted, all)",
  "unbiased",
  "dz unbiased",
];

interface Case {
  readonly pixels: number;
  readonly classes: number;
  readonly old: number;
  readonly seed: number;
}

/** Every output of one case, the kernels dispatched, and the adapter. */
const run = (c: Case, textures: boolean, quads = true) => {
  const saved = { ...textureReads };
  const savedQuads = setCrossEntropyQuads(quads);
  Object.assign(textureReads, { onCpu: textures, onGpu: textures, withoutAvx512OnCpu: textures });
  const rng = new SeededRng(c.seed);
  const logits = Float32Array.from({ length: c.pixels * c.classes }, () => rng.uniform(-6, 6));
  // Labels: mostly classes, some 255 (ignored), some out of range (bad; counted).
  const labels = Int32Array.from({ length: c.pixels }, () => {
    const u = rng.uniform(0, 1);
    return u < 0.1 ? 255 : u < 0.15 ? c.classes + 3 : Math.floor(rng.uniform(0, c.classes));
  });
  const weights = Float32Array.from({ length: c.pixels }, () => rng.uniform(0, 2));
  return runGpu(Effect.gen(function* () {
    const z = yield* fromArray(logits, [1, 1, c.pixels, c.classes], "f32");
    const y = yield* fromArray(labels, [1, 1, c.pixels], "i32");
    const w = yield* fromArray(weights, [1, 1, c.pixels], "f32");
    const one = yield* fromArray([1], [1], "f32");
    const traced = yield* tracing(Effect.gen(function* () {
      const plain = yield* crossEntropy(z, y);
      const dz = yield* crossEntropyBackward(z, y, one, plain.totals);
      const options = { weights: w, meanOver: "all" } as const;
      const weighted = yield* crossEntropy(z, y, options);
      const dzWeighted = yield* crossEntropyBackward(z, y, one, weighted.totals, options);
      const inRange = yield* fromArray(
        labels.map((l) => (l > c.classes ? 255 : l)),
        y.shape,
        "i32",
      );
      const unbiased = yield* unbiasedCrossEntropy(z, inRange, c.old);
      const dzUnbiased = yield* unbiasedCrossEntropyBackward(
        z,
        inRange,
        c.old,
        one,
        unbiased.totals,
      );
      const outputs = [plain.loss, dz, weighted.loss, dzWeighted, unbiased.loss, dzUnbiased];
      const values: Float32Array[] = [];
      for (const t of outputs) values.push(yield* download(t));
      return values;
    }));
    const kernels = traced.dispatches.map((d) => d.kernel).filter((k) =>
      /ce_(forward|backward)/.test(k)
    );
    return { outputs: traced.result, kernels, adapter: (yield* Gpu).adapter };
  })).finally(() => {
    Object.assign(textureReads, saved);
    setCrossEntropyQuads(savedQuads);
  });
};

Deno.test({
  name: "cross-entropy reading its logits through texture copies equals storage-buffer reads",
  ...gpuTestOptions,
  fn: async () => {
    const cases = fc.record({
      pixels: fc.integer({ min: 1, max: 300 }).map((n) => 4 * n),
      classes: fc.integer({ min: 2, max: 23 }),
      seed: fc.integer({ min: 0, max: 1000 }),
    }).chain((r) => fc.integer({ min: 1, max: r.classes }).map((old) => ({ ...r, old })));
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const textures = await run(c, true);
        const buffers = await run(c, false);
        const textured = textures.kernels.filter((k) => k.endsWith("+textures")).length;
        if (textured !== 6) throw new Error(`${textured} of 6 kernels read textures`);
        if (buffers.kernels.some((k) => k.endsWith("+textures"))) {
          throw new Error(`a texture kernel ran with texture reads off: ${buffers.kernels}`);
        }
        for (const [i, name] of NAMES.entries()) {
          assertSameForm(textures.outputs[i], buffers.outputs[i], textures.adapter, name);
        }
      }),
      { seed: 1201, numRuns: 20 },
    );
  },
});

Deno.test({
  name: "the plain cross-entropy on channel quads equals the per-channel kernels (either read)",
  ...gpuTestOptions,
  fn: async () => {
    const cases = fc.record({
      pixels: fc.integer({ min: 1, max: 300 }).map((n) => 4 * n),
      classes: fc.constantFrom(4, 8, 16, 20, 32),
      seed: fc.integer({ min: 0, max: 1000 }),
      textures: fc.boolean(),
    }).chain((r) => fc.integer({ min: 1, max: r.classes }).map((old) => ({ ...r, old })));
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const quads = await run(c, c.textures, true);
        const channels = await run(c, c.textures, false);
        const taken = quads.kernels.filter((k) => k.includes("_quads")).length;
        if (taken !== 4) {
          throw new Error(`${taken} of 4 plain kernels took quads: ${quads.kernels}`);
        }
        if (channels.kernels.some((k) => k.includes("_quads"))) {
          throw new Error(`a quad kernel ran with quads off: ${channels.kernels}`);
        }
        for (const [i, name] of NAMES.entries()) {
          assertSameForm(quads.outputs[i], channels.outputs[i], quads.adapter, name);
        }
      }),
      { seed: 1202, numRuns: 20 },
    );
  },
});
