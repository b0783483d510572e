import fc from "fast-check";
import { Effect } from "effect";
import { ssrdLoss, type SsrdOptions } from "../../../src/incremental/gsc/ssrd.ts";
import { constant, grad, parameter } from "../../../src/autograd/tape.ts";
import {
  pixelEntropyReference,
  softLabelReference,
  ssrdEntropyGradientReference,
  ssrdEntropyReference,
  ssrdSoftLabelGradientReference,
  ssrdSoftLabelReference,
} from "../../reference/gsc.ts";
import { download, fromArray } from "../../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../../support/gpu.ts";
import { assertSameForm, tracing } from "../../support/tracing.ts";
import { Gpu } from "../../../src/gpu/device.ts";
import { textureReads } from "../../../src/ops/texture_reads.ts";
import { floats, seededValues, shapeOf } from "../../support/arbitrary.ts";

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

const defaults: SsrdOptions = { lambdaSoft: 0.3, lambdaEntropy: 0.1 };

/** Old classes, new classes, targets mixing old, new and 255 labels. */
const casesOf = (shape: fc.Arbitrary<number[]>) =>
  fc.record({
    shape,
    oldClasses: fc.integer({ min: 1, max: 6 }),
    newClasses: fc.integer({ min: 0, max: 3 }),
    options: fc.record({
      lambdaSoft: fc.constantFrom<number>(0.3, 1),
      lambdaEntropy: fc.constantFrom<number>(0.1, 2),
    }),
  }).chain((c) => {
    const p = sizeOf(c.shape);
    const channels = c.oldClasses + c.newClasses;
    return fc.record({
      c: fc.constant({ ...c, channels }),
      newLogits: floats(p * channels, 4),
      oldLogits: floats(p * c.oldClasses, 4),
      targets: fc.array(
        fc.oneof(
          { weight: 6, arbitrary: fc.integer({ min: 0, max: channels - 1 }) },
          { weight: 1, arbitrary: fc.constant(255) },
        ),
        { minLength: p, maxLength: p },
      ),
    });
  });

const cases = casesOf(shapeOf(3, 5));

type Case = typeof cases extends fc.Arbitrary<infer T> ? T : never;

/** The float64 loss and gradient of SSRD with `options`. */
const referenceOf = (k: Case, options: SsrdOptions) => {
  const spec = { channels: k.c.channels, oldClasses: k.c.oldClasses };
  const soft = ssrdSoftLabelReference(k.newLogits, k.oldLogits, k.targets, spec);
  const entropy = ssrdEntropyReference(k.newLogits, k.c.channels);
  const ds = ssrdSoftLabelGradientReference(k.newLogits, k.oldLogits, k.targets, spec);
  const de = ssrdEntropyGradientReference(k.newLogits, k.c.channels);
  return {
    loss: options.lambdaSoft * soft + options.lambdaEntropy * entropy,
    soft,
    entropy,
    dz: Array.from(ds, (g, i) => options.lambdaSoft * g + options.lambdaEntropy * de[i]),
  };
};

/** Loss, terms and the gradient with respect to the new logits, on the GPU. */
const runSsrd = (k: Case, options: SsrdOptions) => runGpu(ssrdProgram(k, options));

/** The same with the logits read through texture copies or not; with the kernels run. */
const runSsrdReads = async (k: Case, textures: boolean) => {
  const saved = { ...textureReads };
  Object.assign(textureReads, { withoutAvx512OnCpu: textures, onGpu: textures });
  try {
    return await runGpu(Effect.gen(function* () {
      const traced = yield* tracing(ssrdProgram(k, k.c.options));
      const kernels = traced.dispatches.map((d) => d.kernel).filter((n) => n.includes("ssrd/"));
      return { ...traced.result, kernels, adapter: (yield* Gpu).adapter };
    }));
  } finally {
    Object.assign(textureReads, saved);
  }
};

/** The program behind {@link runSsrd}. */
const ssrdProgram = (k: Case, options: SsrdOptions) =>
  Effect.gen(function* () {
    const { c } = k;
    const z = parameter(yield* fromArray(k.newLogits, [...c.shape, c.channels], "f32"), "z");
    const old = yield* fromArray(k.oldLogits, [...c.shape, c.oldClasses], "f32");
    const targets = yield* fromArray(k.targets, c.shape, "i32");
    const r = yield* ssrdLoss(z, old, targets, c.oldClasses, options);
    const [dz] = yield* grad(r.loss, [z]);
    return {
      loss: (yield* download(r.loss.value))[0],
      soft: (yield* download(r.soft.value))[0],
      entropy: (yield* download(r.entropy.value))[0],
      dz: yield* download(dz),
    };
  });

Deno.test(
  "ssrd: GPU loss, soft-label and entropy terms and gradient match the float64 reference",
  gpuTestOptions,
  async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (k) => {
        const got = await runSsrd(k, k.c.options);
        const want = referenceOf(k, k.c.options);
        assertClose(
          [got.loss, got.soft, got.entropy],
          [want.loss, want.soft, want.entropy],
          1e-5,
          1e-4,
          "loss",
        );
        assertClose(got.dz, want.dz, 1e-6, 1e-3, "gradient");
      }),
      { seed: 42, numRuns: 30 },
    );
  },
);

Deno.test("ssrd: the float64 gradients equal central finite differences", () => {
  fc.assert(
    fc.property(cases, (k) => {
      const analytic = referenceOf(k, k.c.options).dz;
      const h = 1e-6;
      k.newLogits.forEach((_, i) => {
        const plus = { ...k, newLogits: [...k.newLogits] };
        const minus = { ...k, newLogits: [...k.newLogits] };
        plus.newLogits[i] += h;
        minus.newLogits[i] -= h;
        const fd = (referenceOf(plus, k.c.options).loss - referenceOf(minus, k.c.options).loss) /
          (2 * h);
        if (Math.abs(fd - analytic[i]) > 1e-6 + 1e-5 * Math.abs(fd)) {
          throw new Error(`logit ${i}: analytic ${analytic[i]}, finite difference ${fd}`);
        }
      });
    }),
    { seed: 42, numRuns: 40 },
  );
});

Deno.test("ssrd: the entropy term is maximal (log C / C) for a uniform output, 0 for one-hot", () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 21 }), floats(21, 6), (channels, raw) => {
      const z = raw.slice(0, channels);
      const uniform = pixelEntropyReference(new Array(channels).fill(0.3));
      assertClose([uniform], [Math.log(channels) / channels], 1e-12, 0, "uniform");
      if (pixelEntropyReference(z) > uniform + 1e-12) throw new Error(`above uniform: ${z}`);
      const oneHot = Array.from({ length: channels }, (_, c) => (c === 0 ? 800 : 0));
      assertClose([pixelEntropyReference(oneHot)], [0], 1e-12, 0, "one-hot");
    }),
    { seed: 42, numRuns: 40 },
  );
});

Deno.test(
  "ssrd: on the GPU, the entropy term of a uniform output is log C / C and of a one-hot 0",
  gpuTestOptions,
  async () => {
    const channels = 5;
    const at = (z: number[]) =>
      runSsrd({
        c: { shape: [1, 1, 2], oldClasses: 3, newClasses: 2, channels, options: defaults },
        newLogits: [...z, ...z],
        oldLogits: [0, 0, 0, 0, 0, 0],
        targets: [0, 255],
      }, { lambdaSoft: 0, lambdaEntropy: 1 });
    const uniform = await at([1, 1, 1, 1, 1]);
    assertClose([uniform.entropy], [Math.log(channels) / channels], 1e-6, 0, "uniform");
    assertClose(uniform.dz, new Float32Array(2 * channels), 1e-7, 0, "uniform gradient");
    const oneHot = await at([100, 0, 0, 0, 0]);
    assertClose([oneHot.entropy], [0], 1e-7, 0, "one-hot");
  },
);

Deno.test("ssrd: the soft label is softmax([sigmoid(z'), one-hot of a current class])", () => {
  const q = softLabelReference([0, Math.log(3)], 3, 4);
  const raw = [0.5, 0.75, 0, 1];
  const e = raw.map(Math.exp);
  const s = e.reduce((a, b) => a + b, 0);
  assertClose(q, e.map((v) => v / s), 1e-12, 0, "soft label");
  // An old-class (pseudo) target puts no one-hot on the current channels.
  const old = softLabelReference([0, 0], 1, 4);
  if (!(old[2] === old[3] && old[2] < old[0])) throw new Error(`soft label ${old}`);
});

Deno.test(
  "ssrd: 255 pixels take no part in the soft-label term; every pixel in the entropy term",
  gpuTestOptions,
  async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (k) => {
        const ignored = { ...k, targets: k.targets.map(() => 255) };
        const got = await runSsrd(ignored, { lambdaSoft: 1, lambdaEntropy: 0 });
        assertClose([got.soft], [0], 0, 0, "soft");
        assertClose(got.dz, new Float32Array(got.dz.length), 0, 0, "soft gradient");
        const entropy = await runSsrd(ignored, { lambdaSoft: 0, lambdaEntropy: 1 });
        assertClose(
          [entropy.entropy],
          [ssrdEntropyReference(k.newLogits, k.c.channels)],
          1e-5,
          1e-4,
          "entropy",
        );
      }),
      { seed: 42, numRuns: 10 },
    );
  },
);

Deno.test(
  "ssrd: constant student logits get no gradient and the loss still runs",
  gpuTestOptions,
  async () => {
    const loss = await runGpu(Effect.gen(function* () {
      const z = constant(yield* fromArray([1, 2, 3, 0, 1, -1], [1, 1, 2, 3], "f32"));
      const old = yield* fromArray([0.5, 1, -1, 2], [1, 1, 2, 2], "f32");
      const targets = yield* fromArray([0, 2], [1, 1, 2], "i32");
      const r = yield* ssrdLoss(z, old, targets, 2, defaults);
      return { requiresGrad: r.loss.requiresGrad, value: (yield* download(r.loss.value))[0] };
    }));
    if (loss.requiresGrad) throw new Error("a constant student recorded a graph");
    const k = {
      c: { shape: [1, 1, 2], oldClasses: 2, newClasses: 1, channels: 3, options: defaults },
      newLogits: [1, 2, 3, 0, 1, -1],
      oldLogits: [0.5, 1, -1, 2],
      targets: [0, 2],
    };
    assertClose([loss.value], [referenceOf(k, defaults).loss], 1e-5, 1e-5, "loss");
  },
);

Deno.test(
  "ssrd: a larger batch (16 old classes, 21 channels) matches the reference",
  gpuTestOptions,
  async () => {
    const shape = [2, 23, 29];
    const pixels = sizeOf(shape);
    const c = { shape, oldClasses: 16, newClasses: 5, channels: 21, options: defaults };
    const k: Case = {
      c,
      newLogits: Array.from(seededValues(pixels * c.channels, 11, 4)),
      oldLogits: Array.from(seededValues(pixels * c.oldClasses, 12, 4)),
      targets: Array.from(
        seededValues(pixels, 13),
        (v) => v < -0.8 ? 255 : Math.floor((v + 1) * 10.5),
      ),
    };
    const got = await runSsrd(k, defaults);
    const want = referenceOf(k, defaults);
    assertClose(
      [got.loss, got.soft, got.entropy],
      [want.loss, want.soft, want.entropy],
      1e-5,
      1e-4,
      "loss",
    );
    assertClose(got.dz, want.dz, 1e-7, 1e-3, "gradient");
  },
);

Deno.test(
  "ssrd: its kernels reading the logits through texture copies equal storage-buffer reads",
  gpuTestOptions,
  async () => {
    // Pixel counts a multiple of 4, so both logits bind as textures.
    const shapes = fc.integer({ min: 1, max: 30 }).map((n) => [1, 2, 2 * n]);
    await fc.assert(
      fc.asyncProperty(casesOf(shapes), async (k) => {
        const textures = await runSsrdReads(k, true);
        const buffers = await runSsrdReads(k, false);
        if (textures.kernels.filter((n) => n.endsWith("+textures")).length !== 4) {
          throw new Error(`not every SSRD kernel read textures: ${textures.kernels}`);
        }
        if (buffers.kernels.some((n) => n.endsWith("+textures"))) {
          throw new Error(`a texture kernel ran with texture reads off: ${buffers.kernels}`);
        }
        const values = (r: typeof textures) => Float32Array.from([r.loss, r.soft, r.entropy]);
        assertSameForm(values(textures), values(buffers), textures.adapter, "ssrd loss");
        assertSameForm(textures.dz, buffers.dz, textures.adapter, "ssrd gradient");
      }),
      { seed: 1202, numRuns: 20 },
    );
  },
);
