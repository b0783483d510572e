import fc from "fast-check";
import { Effect } from "effect";
import { clone, copyRegion, full } from "../../src/ops/core.ts";
import { download, empty, fromArray, upload } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { smallInts } from "../support/arbitrary.ts";

Deno.test({
  name: "fill writes the value into every element, for each dtype",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3000 }),
        fc.constantFrom("f32", "i32", "u32") as fc.Arbitrary<"f32" | "i32" | "u32">,
        fc.integer({ min: -1000, max: 1000 }),
        async (n, dtype, raw) => {
          const value = dtype === "u32" ? Math.abs(raw) : dtype === "f32" ? raw / 8 : raw;
          const out = await runGpu(Effect.flatMap(full([n], value, dtype), download));
          return out.length === n && out.every((v) => v === value);
        },
      ),
      { seed: 42, numRuns: 20 },
    );
  },
});

Deno.test({
  name: "strided copy moves exactly the block and leaves the rest untouched",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          rows: fc.integer({ min: 1, max: 9 }),
          cols: fc.integer({ min: 1, max: 13 }),
          srcPad: fc.integer({ min: 0, max: 5 }),
          dstPad: fc.integer({ min: 0, max: 5 }),
          srcOffset: fc.integer({ min: 0, max: 7 }),
          dstOffset: fc.integer({ min: 0, max: 7 }),
        }),
        async (r) => {
          const srcStride = r.cols + r.srcPad;
          const dstStride = r.cols + r.dstPad;
          const srcLen = r.srcOffset + r.rows * srcStride;
          const dstLen = r.dstOffset + r.rows * dstStride;
          const src = Array.from({ length: srcLen }, (_, i) => i + 1);
          const expected = new Float64Array(dstLen).fill(-1);
          for (let i = 0; i < r.rows; i++) {
            for (let j = 0; j < r.cols; j++) {
              expected[r.dstOffset + i * dstStride + j] = src[r.srcOffset + i * srcStride + j];
            }
          }
          const out = await runGpu(Effect.gen(function* () {
            const s = yield* fromArray(src, [srcLen], "f32");
            const d = yield* full([dstLen], -1, "f32");
            yield* copyRegion(s, d, { ...r, srcStride, dstStride });
            return yield* download(d);
          }));
          assertClose(out, expected, 0, 0);
        },
      ),
      { seed: 42, numRuns: 25 },
    );
  },
});

Deno.test({
  name: "clone copies every element of an i32 tensor",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 500 }).chain((n) => smallInts(n, -100, 100)),
        async (xs) => {
          const out = await runGpu(Effect.gen(function* () {
            const t = yield* fromArray(xs, [xs.length], "i32");
            return yield* download(yield* clone(t));
          }));
          assertClose(out, xs, 0, 0);
        },
      ),
      { seed: 42, numRuns: 15 },
    );
  },
});

Deno.test({
  name: "upload and download round-trip through recorded order",
  ...gpuTestOptions,
  fn: async () => {
    const out = await runGpu(Effect.gen(function* () {
      const t = yield* empty([5], "f32");
      yield* upload(t, Float32Array.of(1, 2, 3, 4, 5));
      const copy = yield* clone(t);
      yield* upload(t, Float32Array.of(9, 9, 9, 9, 9));
      return [yield* download(copy), yield* download(t)];
    }));
    assertClose(out[0], [1, 2, 3, 4, 5], 0, 0, "copy made before the second upload");
    assertClose(out[1], [9, 9, 9, 9, 9], 0, 0, "second upload");
  },
});
