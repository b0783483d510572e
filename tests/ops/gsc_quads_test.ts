/**
 * The faster forms of GSC's and PLOP's per-pixel kernels: PPR's
 * prototype-corrected logits, the local POD embedding and its map gradient
 * on quads, and SGC's weights from gains computed once per pixel. Each is
 * bit for bit the form it replaces on the CPU adapter (within a few ulps on a
 * GPU whose compiler fuses multiply-adds its own way: `assertSameForm`), and
 * within the float64 references.
 */
import fc from "fast-check";
import { Effect } from "effect";
import {
  prototypeCorrectedLogits,
  relabelPixels,
  setRelabelPixels,
  setRelabelQuads,
} from "../../src/ops/pseudo_relabel.ts";
import { podEmbed, podEmbedBackward, setPodQuads } from "../../src/ops/pod.ts";
import { accumulatePrototypes, setPrototypeQuads } from "../../src/ops/prototypes.ts";
import { fillInto } from "../../src/ops/core.ts";
import { setSgcPrecomputedGains, sgcWeights } from "../../src/ops/sgc.ts";
import { correctedLogitsReference, sgcWeightsReference } from "../reference/gsc.ts";
import { localPodEmbeddingReference } from "../reference/plop.ts";
import { download, empty, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { seededValues } from "../support/arbitrary.ts";
import { assertSameForm, tracing } from "../support/tracing.ts";
import { textureReads } from "../../src/ops/texture_reads.ts";

const relabelCase = fc.record({
  pixels: fc.integer({ min: 1, max: 70 }),
  oldClasses: fc.integer({ min: 1, max: 21 }),
  width: fc.constantFrom(4, 8, 12, 64, 256),
  tau: fc.constantFrom(0.5, 1, 4),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
  // Some pixels' features all zero (the 1e-8 norm floor), some prototypes invalid.
  zeroPixel: fc.integer({ min: 0, max: 3 }),
  validType: fc.constantFrom<"u32" | "i32">("u32", "i32"),
  // Pixels an invocation of the vec4 kernel corrects (undefined: the adapter's rule).
  pixelsPerInvocation: fc.constantFrom<number | undefined>(undefined, 1, 3),
});

Deno.test({
  name: "PPR's corrected logits on feature quads (buffers or textures) equal the scalar kernel",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(relabelCase, async (k) => {
        const logits = seededValues(k.pixels * k.oldClasses, k.seed, 3);
        const features = seededValues(k.pixels * k.width, k.seed + 1, 2);
        for (let p = 0; p < k.pixels; p += 4 + k.zeroPixel) {
          features.fill(0, p * k.width, (p + 1) * k.width);
        }
        const prototypes = seededValues(k.oldClasses * k.width, k.seed + 2, 1);
        const valid = Array.from({ length: k.oldClasses }, (_, c) => (c * 7 + k.seed) % 4 ? 1 : 0);
        const run = (quads: boolean, textures = false) =>
          runGpu(tracing(Effect.gen(function* () {
            const previous = setRelabelQuads(quads);
            const previousPixels = setRelabelPixels(k.pixelsPerInvocation);
            const saved = { ...textureReads };
            Object.assign(textureReads, { withoutAvx512OnCpu: textures, onGpu: textures });
            try {
              const corrected = yield* prototypeCorrectedLogits(
                yield* fromArray(logits, [k.pixels, k.oldClasses], "f32"),
                yield* fromArray(features, [k.pixels, k.width], "f32"),
                yield* fromArray(prototypes, [k.oldClasses, k.width], "f32"),
                yield* fromArray(valid, [k.oldClasses], k.validType),
                { tau: k.tau },
              );
              return yield* download(corrected);
            } finally {
              setRelabelQuads(previous);
              setRelabelPixels(previousPixels);
              Object.assign(textureReads, saved);
            }
          })));
        const quad = await run(true);
        const scalar = await run(false);
        const textured = await run(true, true);
        if (!quad.kernels.some((n) => n.includes("pseudo_relabel_vec4"))) {
          throw new Error(`the vec4 kernel was not taken: ${quad.kernels}`);
        }
        if (quad.kernels.some((n) => n.endsWith("+textures"))) {
          throw new Error(`texture reads were taken with them off: ${quad.kernels}`);
        }
        if (
          !textured.kernels.some((n) =>
            n.includes("pseudo_relabel_vec4") && n.endsWith("+textures")
          )
        ) {
          throw new Error(`the texture form was not taken: ${textured.kernels}`);
        }
        assertSameForm(textured.result, quad.result, quad.adapter, "PPR through textures");
        if (scalar.kernels.some((n) => n.includes("vec4"))) {
          throw new Error(`the scalar run took a vec4 kernel: ${scalar.kernels}`);
        }
        assertSameForm(quad.result, scalar.result, quad.adapter, "PPR corrected logits");
        const expected = correctedLogitsReference(
          logits,
          features,
          prototypes,
          valid,
          k.oldClasses,
          k.width,
          k.tau,
        );
        assertClose(quad.result, expected, 1e-4, 1e-4);
      }),
      { numRuns: 25, seed: 4242 },
    );
  },
});

Deno.test("PPR's correction takes several pixels an invocation on a CPU adapter, one on a GPU", () => {
  if (relabelPixels(true, 16) !== 8) throw new Error(`64 features: ${relabelPixels(true, 16)}`);
  if (relabelPixels(true, 64) !== 2) throw new Error(`256 features: ${relabelPixels(true, 64)}`);
  if (relabelPixels(true, 512) !== 1) throw new Error(`2048 features: ${relabelPixels(true, 512)}`);
  if (relabelPixels(false, 16) !== 1) throw new Error(`GPU: ${relabelPixels(false, 16)}`);
});

const prototypeCase = fc.record({
  // Past one chunk of 512 pixels, so several workgroups add partials.
  pixels: fc.integer({ min: 1, max: 1300 }),
  // A few class counts: each compiles its own pipelines.
  classes: fc.constantFrom(1, 5, 16, 21),
  // 256 features: four tiles of 64.
  width: fc.constantFrom(4, 8, 12, 64, 256),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});

Deno.test({
  name: "prototype sums on feature quads equal the scalar segmented sum",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(prototypeCase, async (k) => {
        const features = seededValues(k.pixels * k.width, k.seed, 2);
        // Targets: classes, some 255 and some out of range (skipped).
        const targets = Array.from(
          seededValues(k.pixels, k.seed + 1, 1),
          (v, i) =>
            i % 11 === 3 ? 255 : i % 13 === 5 ? k.classes : Math.floor(Math.abs(v) * k.classes),
        );
        const run = (quads: boolean) =>
          runGpu(tracing(Effect.gen(function* () {
            const previous = setPrototypeQuads(quads);
            try {
              const sums = yield* empty([k.classes, k.width], "f32");
              const counts = yield* empty([k.classes], "u32");
              yield* fillInto(sums, 0);
              yield* fillInto(counts, 0);
              const f = yield* fromArray(features, [k.pixels, k.width], "f32");
              const t = yield* fromArray(targets, [k.pixels], "i32");
              // Twice: the second batch adds into the first's sums.
              yield* accumulatePrototypes(f, t, sums, counts);
              yield* accumulatePrototypes(f, t, sums, counts);
              return { sums: yield* download(sums), counts: yield* download(counts) };
            } finally {
              setPrototypeQuads(previous);
            }
          })));
        const quad = await run(true);
        const scalar = await run(false);
        const isQuadSum = (n: string) =>
          n.startsWith("shaders/segments/sum.wgsl") && n.endsWith(", vec4>");
        if (!quad.kernels.some(isQuadSum)) {
          throw new Error(`the quad kernel was not taken: ${quad.kernels}`);
        }
        if (scalar.kernels.some(isQuadSum)) {
          throw new Error(`the scalar run took the quad kernel: ${scalar.kernels}`);
        }
        assertSameForm(quad.result.sums, scalar.result.sums, quad.adapter, "prototype sums");
        if (quad.result.counts.join() !== scalar.result.counts.join()) {
          throw new Error(`counts ${quad.result.counts} against ${scalar.result.counts}`);
        }
      }),
      { numRuns: 25, seed: 5151 },
    );
  },
});

const podCase = fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  h: fc.integer({ min: 4, max: 17 }),
  w: fc.integer({ min: 4, max: 17 }),
  c: fc.constantFrom(4, 8, 16),
  scales: fc.constantFrom([1], [1, 2], [1, 2, 4]),
  prepro: fc.constantFrom<"pow" | "none">("pow", "none"),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
}).filter((k) => Math.floor(k.w / Math.max(...k.scales)) * Math.max(...k.scales) <= k.h);

Deno.test({
  name: "local POD embedding and its map gradient on channel quads equal the scalar kernels",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(podCase, async (k) => {
        const shape = [k.n, k.h, k.w, k.c] as [number, number, number, number];
        const x = seededValues(k.n * k.h * k.w * k.c, k.seed, 2);
        const run = (quads: boolean) =>
          runGpu(tracing(Effect.gen(function* () {
            const previous = setPodQuads(quads);
            try {
              const map = yield* fromArray(x, shape, "f32");
              const embed = yield* podEmbed(map, { scales: k.scales, prepro: k.prepro });
              const gemb = seededValues(embed.emb.elements, k.seed + 1, 1);
              const dmap = yield* podEmbedBackward(
                map,
                embed,
                yield* fromArray(gemb, embed.emb.shape, "f32"),
              );
              return { emb: yield* download(embed.emb), dmap: yield* download(dmap) };
            } finally {
              setPodQuads(previous);
            }
          })));
        const quad = await run(true);
        const scalar = await run(false);
        const vec4 = quad.kernels.filter((n) => n.includes("pod/embed") && n.includes("vec4"));
        if (vec4.length !== 2) throw new Error(`the vec4 kernels were not taken: ${quad.kernels}`);
        if (scalar.kernels.some((n) => n.includes("vec4"))) {
          throw new Error(`the scalar run took a vec4 kernel: ${scalar.kernels}`);
        }
        assertSameForm(quad.result.emb, scalar.result.emb, quad.adapter, "POD embedding");
        assertSameForm(quad.result.dmap, scalar.result.dmap, quad.adapter, "POD map gradient");
        const expected = localPodEmbeddingReference(x, shape, k.scales, k.prepro).flat();
        assertClose(quad.result.emb, expected, 1e-4, 1e-4, "embedding");
      }),
      { numRuns: 25, seed: 4243 },
    );
  },
});

const sgcCase = fc.record({
  pixels: fc.integer({ min: 1, max: 1500 }),
  step: fc.integer({ min: 1, max: 5 }),
  channels: fc.integer({ min: 6, max: 21 }),
  zeta: fc.constantFrom(0.5, 0.75, 0.95),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
  withBase: fc.boolean(),
});

Deno.test({
  name: "SGC weights from gains computed once per pixel equal the inline form",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(sgcCase, async (k) => {
        const classStep = Array.from(
          { length: k.channels },
          (_, c) => c === 0 ? 0 : Math.min(k.step, (c * 5 + k.seed) % (k.step + 1)),
        );
        const logits = seededValues(k.pixels * k.channels, k.seed, 6);
        const targets = Array.from({ length: k.pixels }, (_, p) => {
          const r = (p * 2654435761 + k.seed) >>> 0;
          return r % 13 === 0 ? 255 : r % k.channels;
        });
        const base = k.withBase
          ? Array.from(seededValues(k.pixels, k.seed + 3), (v) => Math.abs(v))
          : undefined;
        const options = { step: k.step, zeta: k.zeta, min: 0.5, max: 1.2 };
        const run = (precomputed: boolean) =>
          runGpu(tracing(Effect.gen(function* () {
            const previous = setSgcPrecomputedGains(precomputed);
            try {
              const w = yield* sgcWeights(
                yield* fromArray(logits, [k.pixels, k.channels], "f32"),
                yield* fromArray(targets, [k.pixels], "i32"),
                yield* fromArray(classStep, [k.channels], "i32"),
                options,
                base ? yield* fromArray(base, [k.pixels], "f32") : undefined,
              );
              return yield* download(w);
            } finally {
              setSgcPrecomputedGains(previous);
            }
          })));
        const once = await run(true);
        const inline = await run(false);
        if (!once.kernels.includes("shaders/sgc/gains.wgsl")) {
          throw new Error(`the gains kernel was not taken: ${once.kernels}`);
        }
        if (inline.kernels.includes("shaders/sgc/gains.wgsl")) {
          throw new Error(`the inline run took the gains kernel: ${inline.kernels}`);
        }
        assertSameForm(once.result, inline.result, once.adapter, "SGC weights");
        const expected = sgcWeightsReference(
          logits,
          targets,
          classStep,
          k.channels,
          options,
          base,
        );
        assertClose(once.result, expected, 1e-4, 1e-4);
      }),
      { numRuns: 25, seed: 4244 },
    );
  },
});
