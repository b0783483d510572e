import fc from "fast-check";
import { Effect } from "effect";
import { pseudoRelabel } from "../../src/ops/pseudo_relabel.ts";
import { pseudoRelabelReference } from "../../src/ops/reference/gsc.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { floats, shapeOf } from "../support/arbitrary.ts";

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

const normalizeRows = (values: number[], width: number): number[] =>
  values.map((v, i) => {
    const row = values.slice(Math.floor(i / width) * width, Math.floor(i / width) * width + width);
    return v / Math.max(Math.hypot(...row), 1e-8);
  });

/** Labels of a step: background 0, ignore 255 and the current classes [Cold, Cold + new). */
const cases = fc.record({
  shape: shapeOf(3, 6),
  oldClasses: fc.integer({ min: 2, max: 7 }),
  newClasses: fc.integer({ min: 1, max: 3 }),
  width: fc.integer({ min: 1, max: 13 }),
  theta: fc.constantFrom(0.4, 0.7),
  tau: fc.constantFrom(0.1, 0.5),
}).chain((c) => {
  const p = sizeOf(c.shape);
  return fc.record({
    c: fc.constant(c),
    labels: fc.array(
      fc.oneof(
        { weight: 6, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.constant(255) },
        {
          weight: 2,
          arbitrary: fc.integer({ min: c.oldClasses, max: c.oldClasses + c.newClasses - 1 }),
        },
      ),
      { minLength: p, maxLength: p },
    ),
    oldLogits: floats(p * c.oldClasses, 3),
    features: floats(p * c.width, 2),
    prototypes: floats(c.oldClasses * c.width, 1).map((v) => normalizeRows(v, c.width)),
    valid: fc.array(fc.constantFrom<number>(0, 1, 1, 1), {
      minLength: c.oldClasses,
      maxLength: c.oldClasses,
    }),
    permutation: fc.shuffledSubarray(
      Array.from({ length: c.oldClasses - 1 }, (_, i) => i + 1),
      { minLength: c.oldClasses - 1, maxLength: c.oldClasses - 1 },
    ),
  });
});

type Case = typeof cases extends fc.Arbitrary<infer T> ? T : never;

const relabel = (k: Case, validType: "u32" | "i32" = "u32") =>
  runGpu(Effect.gen(function* () {
    const { c } = k;
    const labels = yield* fromArray(k.labels, c.shape, "i32");
    const logits = yield* fromArray(k.oldLogits, [...c.shape, c.oldClasses], "f32");
    const features = yield* fromArray(k.features, [...c.shape, c.width], "f32");
    const prototypes = yield* fromArray(k.prototypes, [c.oldClasses, c.width], "f32");
    const valid = yield* fromArray(k.valid, [c.oldClasses], validType);
    const out = yield* pseudoRelabel(labels, logits, features, prototypes, valid, {
      tau: c.tau,
      theta: c.theta,
    });
    return yield* download(out);
  }));

const reference = (k: Case) =>
  pseudoRelabelReference(
    k.labels,
    k.oldLogits,
    k.features,
    k.prototypes,
    k.valid,
    k.c.oldClasses,
    k.c.width,
    { tau: k.c.tau, theta: k.c.theta },
  );

// f32 rounding may decide a tie or a score equal to theta differently from float64.
const ambiguous = (r: ReturnType<typeof reference>, p: number, theta: number) =>
  r.gap[p] < 1e-3 || Math.abs(r.score[p] - theta) < 1e-3;

Deno.test(
  "ppr: GPU matches the float64 reference (u32 and i32 validity)",
  gpuTestOptions,
  async () => {
    await fc.assert(
      fc.asyncProperty(
        cases,
        fc.constantFrom<"u32" | "i32">("u32", "i32"),
        async (k, validType) => {
          const got = await relabel(k, validType);
          const want = reference(k);
          got.forEach((v, p) => {
            if (v !== want.labels[p] && !ambiguous(want, p, k.c.theta)) {
              throw new Error(`pixel ${p}: ${v} vs ${want.labels[p]} (score ${want.score[p]})`);
            }
          });
        },
      ),
      { seed: 42, numRuns: 30 },
    );
  },
);

Deno.test(
  "ppr: only background pixels change, into old classes, 0 or 255",
  gpuTestOptions,
  async () => {
    const seen = { relabelled: 0, uncertain: 0 };
    await fc.assert(
      fc.asyncProperty(cases, async (k) => {
        const got = await relabel(k);
        got.forEach((v, p) => {
          const y = k.labels[p];
          if (y !== 0 && v !== y) throw new Error(`pixel ${p}: label ${y} changed to ${v}`);
          if (y === 0 && v !== 255 && (v < 0 || v >= k.c.oldClasses)) {
            throw new Error(`pixel ${p}: background became ${v}`);
          }
          if (y === 0 && v === 255) seen.uncertain++;
          if (y === 0 && v > 0 && v !== 255) {
            seen.relabelled++;
            if (!k.valid[v]) throw new Error(`pixel ${p}: class ${v} has no valid prototype`);
          }
        });
      }),
      { seed: 42, numRuns: 30 },
    );
    // The cases must exercise both outcomes, or the property says little.
    if (seen.relabelled === 0 || seen.uncertain === 0) throw new Error(JSON.stringify(seen));
  },
);

Deno.test(
  "ppr: invariant to a permutation of the old non-background classes",
  gpuTestOptions,
  async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (k) => {
        const { oldClasses, width } = k.c;
        // Old class c moves to index perm[c]; background 0 stays.
        const perm = [0, ...k.permutation];
        const pixels = k.labels.length;
        const logits = new Array<number>(k.oldLogits.length);
        for (let p = 0; p < pixels; p++) {
          for (let c = 0; c < oldClasses; c++) {
            logits[p * oldClasses + perm[c]] = k.oldLogits[p * oldClasses + c];
          }
        }
        const prototypes = new Array<number>(k.prototypes.length);
        const valid = new Array<number>(oldClasses);
        for (let c = 0; c < oldClasses; c++) {
          valid[perm[c]] = k.valid[c];
          for (let f = 0; f < width; f++) {
            prototypes[perm[c] * width + f] = k.prototypes[c * width + f];
          }
        }
        const permuted: Case = { ...k, oldLogits: logits, prototypes, valid };
        const base = await relabel(k);
        const moved = await relabel(permuted);
        const want = reference(k);
        base.forEach((v, p) => {
          const expected = v > 0 && v < oldClasses ? perm[v] : v;
          if (moved[p] !== expected && !ambiguous(want, p, k.c.theta)) {
            throw new Error(`pixel ${p}: ${moved[p]} after the permutation, ${expected} expected`);
          }
        });
      }),
      { seed: 42, numRuns: 25 },
    );
  },
);
