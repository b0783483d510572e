import fc from "fast-check";
import { Effect } from "effect";
import { concat, concatBackward } from "../../src/ops/concat.ts";
import { concatBackwardReference, concatReference } from "../reference/concat.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu, runGpuResult } from "../support/gpu.ts";
import { seededValues } from "../support/arbitrary.ts";

const caseArb = fc.record({
  n: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 1, max: 7 }),
  w: fc.integer({ min: 1, max: 5 }),
  sizes: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 10 }),
  axis: fc.constantFrom(-1, 3, 1, 0),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});

Deno.test({
  name: "concat and its backward match the reference, for channels and other axes",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (k) => {
        const at = k.axis < 0 ? 4 + k.axis : k.axis;
        const shapes = k.sizes.map((s) => {
          const shape = [k.n, k.h, k.w, 3];
          shape[at] = s;
          return shape;
        });
        const inputs = shapes.map((s, i) => seededValues(s.reduce((a, b) => a * b), k.seed + i));
        const expected = concatReference(inputs, shapes, k.axis);
        const dy = seededValues(expected.length, k.seed + 99);
        const got = await runGpu(Effect.gen(function* () {
          const tensors = [];
          for (let i = 0; i < shapes.length; i++) {
            tensors.push(yield* fromArray(inputs[i], shapes[i], "f32"));
          }
          const out = yield* concat(tensors, k.axis);
          const parts = yield* concatBackward(
            yield* fromArray(dy, out.shape, "f32"),
            shapes,
            k.axis,
          );
          const grads = [];
          for (const p of parts) grads.push(yield* download(p));
          return { shape: out.shape, y: yield* download(out), grads };
        }));
        const total = k.sizes.reduce((a, b) => a + b, 0);
        const shape = [k.n, k.h, k.w, 3];
        shape[at] = total;
        if (got.shape.join() !== shape.join()) throw new Error(`shape ${got.shape}`);
        assertClose(got.y, expected, 0, 0, "y");
        const parts = concatBackwardReference(dy, shapes, k.axis);
        got.grads.forEach((g, i) => assertClose(g, parts[i], 0, 0, `grad ${i}`));
      }),
      { seed: 42, numRuns: 25 },
    );
  },
});

Deno.test("concat reference backward is the adjoint of concat", () => {
  fc.assert(
    fc.property(caseArb, (k) => {
      const shapes = k.sizes.map((s) => [k.n, k.h, k.w, s]);
      const xs = shapes.map((s, i) => seededValues(s.reduce((a, b) => a * b), k.seed + i));
      const y = concatReference(xs, shapes);
      const g = seededValues(y.length, k.seed + 99);
      const lhs = y.reduce((s, v, i) => s + v * g[i], 0);
      const parts = concatBackwardReference(g, shapes);
      const rhs = parts.reduce((s, p, j) => s + p.reduce((t, v, i) => t + v * xs[j][i], 0), 0);
      return Math.abs(lhs - rhs) <= 1e-9 * (1 + Math.abs(lhs));
    }),
    { seed: 42, numRuns: 30 },
  );
});

Deno.test({
  name: "concat rejects shapes that differ off the axis",
  ...gpuTestOptions,
  fn: async () => {
    const result = await runGpuResult(Effect.gen(function* () {
      const a = yield* fromArray(new Float32Array(6), [1, 2, 1, 3], "f32");
      const b = yield* fromArray(new Float32Array(6), [1, 1, 2, 3], "f32");
      return yield* concat([a, b]);
    }));
    if (result._tag !== "Failure" || result.failure._tag !== "BindingError") {
      throw new Error(`expected a BindingError, got ${result._tag}`);
    }
  },
});
