import fc from "fast-check";
import { Effect } from "effect";
import { grad, parameter } from "../../../src/autograd/tape.ts";
import {
  collapseNewLogits,
  localPod,
  localPodLayer,
  plopLocalPod,
  podAdaptiveFactor,
  podLayout,
} from "../../../src/incremental/losses/mod.ts";
import {
  collapseNewLogitsReference,
  finiteDifferences,
  localPodLayerReference,
  localPodReference,
  type Nhwc,
} from "../../reference/plop.ts";
import { download, fromArray } from "../../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu, runGpuResult } from "../../support/gpu.ts";

/** Map values away from 0 (|v| >= 1/8): below eps the normalisation is a different function. */
const mapValues = (length: number) =>
  fc.array(
    fc.integer({ min: 1, max: 16 }).chain((v) => fc.constantFrom(v / 8, -v / 8)),
    { minLength: length, maxLength: length },
  );

type PodOptions = { scales?: number[]; normalize?: boolean; prepro?: "pow" | "none" };

/** One POD layer on the GPU: the loss and the new map's gradient. */
const gpuLayer = (
  a: readonly number[],
  b: readonly number[],
  shape: Nhwc,
  options: PodOptions = {},
) =>
  runGpu(Effect.gen(function* () {
    const A = parameter(yield* fromArray(a, shape, "f32"), "A");
    const loss = yield* localPodLayer(A, yield* fromArray(b, shape, "f32"), options);
    const [da] = yield* grad(loss, [A]);
    return { loss: (yield* download(loss.value))[0], da: Array.from(yield* download(da)) };
  }));

Deno.test({
  name: "local POD: hand-computed values on a 2x2 map",
  ...gpuTestOptions,
  fn: async () => {
    // x = [[1, 2], [3, 4]] (one channel), squared: [[1, 4], [9, 16]].
    // Scale 1: rows averaged over the width [2.5, 12.5], columns over the
    // height [5, 10]. Against an all-zero old map: sqrt(6.25 + 156.25 + 25 + 100)
    // = sqrt(287.5). Scale 2 (k = 1): each pixel is a region, giving its value
    // twice: 2 (1 + 16 + 81 + 256) = 708 more, so sqrt(995.5) for scales [1, 2].
    const x = [1, 2, 3, 4];
    const zero = [0, 0, 0, 0];
    const shape: Nhwc = [1, 2, 2, 1];
    const one = await gpuLayer(x, zero, shape, { scales: [1] });
    assertClose([one.loss], [Math.sqrt(287.5)], 1e-5, 1e-5, "scale 1");
    const two = await gpuLayer(x, zero, shape, { scales: [1, 2] });
    assertClose([two.loss], [Math.sqrt(995.5)], 1e-5, 1e-5, "scales 1, 2");
    // Without "pow": rows [1.5, 3.5], columns [2, 3]: sqrt(2.25 + 12.25 + 4 + 9).
    const raw = await gpuLayer(x, zero, shape, { scales: [1], prepro: "none" });
    assertClose([raw.loss], [Math.sqrt(27.5)], 1e-5, 1e-5, "prepro none");
    // Adaptive factor: 15-5 at step 1 sees 21 classes, 5 of them new.
    assertClose([podAdaptiveFactor(21, 5)], [Math.sqrt(21 / 5)], 1e-15, 0, "schedule");
  },
});

const cases = fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  h: fc.integer({ min: 4, max: 9 }),
  w: fc.integer({ min: 4, max: 9 }),
  c: fc.integer({ min: 1, max: 5 }),
}).chain((s) => {
  const size = s.n * s.h * s.w * s.c;
  return fc.record({
    s: fc.constant(s),
    a: mapValues(size),
    b: mapValues(size),
    normalize: fc.boolean(),
    prepro: fc.constantFrom<"pow" | "none">("pow", "none"),
  });
});

Deno.test({
  name: "local POD layer: GPU matches the float64 reference and its finite differences",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ s, a, b, normalize, prepro }) => {
        // Rows beyond the width's regions are clipped like Python slices: h
        // must not be below w (PLOP's maps are square); swap when needed.
        const shape: Nhwc = [s.n, Math.max(s.h, s.w), Math.min(s.h, s.w), s.c];
        const options = { normalize, prepro };
        const out = await gpuLayer(a, b, shape, options);
        const f = (x: number[]) => localPodLayerReference(x, b, shape, options);
        assertClose([out.loss], [f(a)], 1e-4, 1e-4, "loss");
        assertClose(out.da, finiteDifferences(f, a, 1e-6), 1e-4, 2e-3, "grad");
      }),
      { seed: 42, numRuns: 20 },
    );
  },
});

Deno.test({
  name: "local POD is zero, with a zero gradient, when the new maps equal the old",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(cases, async ({ s, a, normalize }) => {
        const shape: Nhwc = [s.n, Math.max(s.h, s.w), Math.min(s.h, s.w), s.c];
        const out = await gpuLayer(a, a, shape, { normalize });
        assertClose([out.loss], [0], 0, 0, "loss");
        assertClose(out.da, new Array(a.length).fill(0), 0, 0, "grad");
      }),
      { seed: 42, numRuns: 8 },
    );
  },
});

Deno.test({
  name: "local POD over layers and PLOP's weighted form match the reference",
  ...gpuTestOptions,
  fn: async () => {
    const shapes: Nhwc[] = [[2, 9, 9, 3], [2, 5, 5, 4]];
    const maps = shapes.map((s, i) => ({
      a: Array.from({ length: s.reduce((x, y) => x * y) }, (_, k) => Math.sin(k + i)),
      b: Array.from({ length: s.reduce((x, y) => x * y) }, (_, k) => Math.cos(2 * k + i)),
    }));
    // Logits before upsampling: 5 new channels (3 old, 2 new) on a 4x4 map.
    const logitsShape: Nhwc = [2, 4, 4, 5];
    const zNew = Array.from({ length: 160 }, (_, k) => Math.sin(3 * k));
    const zOld = Array.from({ length: 96 }, (_, k) => Math.cos(k));
    const out = await runGpu(Effect.gen(function* () {
      const news = [];
      const olds = [];
      for (let i = 0; i < shapes.length; i++) {
        news.push(parameter(yield* fromArray(maps[i].a, shapes[i], "f32"), `a${i}`));
        olds.push(yield* fromArray(maps[i].b, shapes[i], "f32"));
      }
      const mean = yield* localPod(news, olds);
      const newLogits = parameter(yield* fromArray(zNew, logitsShape, "f32"), "z");
      const oldLogits = yield* fromArray(zOld, [2, 4, 4, 3], "f32");
      const collapsed = yield* collapseNewLogits(newLogits, 3);
      const plop = yield* plopLocalPod({
        newStages: news,
        oldStages: olds,
        newLogits,
        oldLogits,
        oldClasses: 3,
        seenClasses: 5,
        newClasses: 2,
      });
      return {
        mean: (yield* download(mean.value))[0],
        collapsed: Array.from(yield* download(collapsed.value)),
        plop: (yield* download(plop.value))[0],
      };
    }));
    const stagesA = maps.map((m) => m.a);
    const stagesB = maps.map((m) => m.b);
    assertClose([out.mean], [localPodReference(stagesA, stagesB, shapes)], 1e-4, 1e-4, "mean");
    const collapsed = collapseNewLogitsReference(zNew, 5, 3);
    assertClose(out.collapsed, collapsed, 1e-6, 1e-6, "collapse");
    // PLOP: (1/3) [0.01 s (POD_1 + POD_2) + 0.0005 s POD_logits], s = sqrt(5 / 2).
    const s = Math.sqrt(5 / 2);
    const expected = localPodReference(
      [...stagesA, collapsed],
      [...stagesB, zOld],
      [...shapes, [2, 4, 4, 3]],
      { weights: [0.01 * s, 0.01 * s, 0.0005 * s] },
    );
    assertClose([out.plop], [expected], 1e-6, 1e-4, "plop");
  },
});

Deno.test({
  name: "collapseNewLogits: channel 0 sums background and new classes, or `trim` leaves them out",
  ...gpuTestOptions,
  fn: async () => {
    // z = [1, 2, 3, 4] with 2 old classes. `sum`: [1 + 3 + 4, 2] = [8, 2], and the gradient of
    // sum(collapsed * [1, 10]) is [1, 10, 1, 1]. `trim`: [1, 2], the new logits get no gradient.
    const expected = {
      sum: { y: [8, 2], dz: [1, 10, 1, 1] },
      trim: { y: [1, 2], dz: [1, 10, 0, 0] },
    };
    for (const mode of ["sum", "trim"] as const) {
      const out = await runGpu(Effect.gen(function* () {
        const Z = parameter(yield* fromArray([1, 2, 3, 4], [1, 1, 1, 4], "f32"), "Z");
        const y = yield* collapseNewLogits(Z, 2, mode);
        const [dz] = yield* grad(y, [Z], yield* fromArray([1, 10], [1, 1, 1, 2], "f32"));
        return { y: Array.from(yield* download(y.value)), dz: Array.from(yield* download(dz)) };
      }));
      assertClose(out.y, expected[mode].y, 0, 0, `${mode}: value`);
      assertClose(out.dz, expected[mode].dz, 0, 0, `${mode}: grad`);
    }
  },
});

Deno.test({
  name: "local POD rejects maps whose regions come out empty or whose shapes differ",
  ...gpuTestOptions,
  fn: async () => {
    for (const [shapeA, shapeB] of [[[1, 2, 2, 1], [1, 2, 2, 1]], [[1, 4, 4, 1], [1, 4, 4, 2]]]) {
      const r = await runGpuResult(Effect.gen(function* () {
        const size = (s: number[]) => s.reduce((x, y) => x * y);
        const A = parameter(yield* fromArray(new Array(size(shapeA)).fill(1), shapeA, "f32"), "A");
        const B = yield* fromArray(new Array(size(shapeB)).fill(1), shapeB, "f32");
        // Scale 4 on a 2-wide map: k = 0, every region is empty.
        return yield* localPodLayer(A, B);
      }));
      if (r._tag !== "Failure") throw new Error(`accepted ${shapeA} vs ${shapeB}`);
    }
  },
});

Deno.test("podLayout refuses scales that are not positive integers and regions left empty", () => {
  for (const s of [0, -1, 1.5, Number.NaN]) {
    const result = podLayout(8, 8, 4, [1, s]);
    if (result !== `scale ${s} is not a positive integer`) {
      throw new Error(`scale ${s}: ${JSON.stringify(result)}`);
    }
  }
  const empty = podLayout(2, 2, 4, [3]);
  if (typeof empty !== "string" || !empty.includes("empty")) throw new Error(`${empty}`);
  const fine = podLayout(8, 8, 4, [1, 2]);
  if (typeof fine === "string") throw new Error(fine);
});
