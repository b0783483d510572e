/**
 * `downloadAll` (one staging buffer, one map; `download` is its one-tensor
 * case) returns each tensor's uploaded values, typed by its dtype: f32, i32
 * and u32 tensors of any length (one element, odd lengths), views at an
 * offset into a larger buffer, and the empty list; `download` of each agrees.
 * A started download (`startDownload`) gives the values the tensors held when
 * it started, whatever is written to them before it is collected.
 */
import fc from "fast-check";
import { Effect } from "effect";
import {
  download,
  downloadAll,
  fromArray,
  slice,
  SLICE_ALIGNMENT_BYTES,
  startDownload,
  type Tensor,
  upload,
} from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";

const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

Deno.test({
  name: "downloadAll and download return the uploaded values, views and mixed dtypes included",
  ...gpuTestOptions,
  fn: async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            dtype: fc.constantFrom("f32" as const, "i32" as const, "u32" as const),
            length: fc.integer({ min: 1, max: 70 }),
            // A view: this many aligned blocks of a larger tensor skipped.
            skip: fc.integer({ min: 0, max: 2 }).map((k) => k * SLICE_ALIGNMENT_BYTES / 4),
            seed: fc.integer({ min: 0, max: 1000 }),
          }),
          { minLength: 0, maxLength: 6 },
        ),
        async (specs) => {
          const expected: (Float32Array | Int32Array | Uint32Array)[] = [];
          const { each, all } = await runGpu(Effect.gen(function* () {
            const tensors: Tensor[] = [];
            for (const { dtype, length, skip, seed } of specs) {
              const n = length + skip;
              const values = Array.from({ length: n }, (_, i) => ((i * 7919 + seed) % 201) - 100);
              const data = dtype === "f32"
                ? Float32Array.from(values, (v) => v / 7)
                : dtype === "i32"
                ? Int32Array.from(values)
                : Uint32Array.from(values, (v) => v + 100);
              expected.push(data.subarray(skip));
              const whole = yield* fromArray(data as never, [n], dtype);
              tensors.push(skip === 0 ? whole : slice(whole, skip, [length]) as Tensor);
            }
            const each = [];
            for (const t of tensors) each.push(yield* download(t));
            return { each, all: yield* downloadAll(tensors) };
          }));
          if (all.length !== each.length) throw new Error(`${all.length} arrays, ${each.length}`);
          for (const [i, a] of all.entries()) {
            const want = expected[i];
            if (a.constructor !== want.constructor || !sameBits(a, want)) {
              throw new Error(`tensor ${i} (${JSON.stringify(specs[i])}): ${a} against ${want}`);
            }
            if (!sameBits(each[i], want)) {
              throw new Error(`download of tensor ${i}: ${each[i]} against ${want}`);
            }
          }
        },
      ),
      { seed: 20261201, numRuns: 25 },
    );
  },
});

Deno.test({
  name:
    "a started download gives the values at its start; later writes, submits and downloads do not move them",
  ...gpuTestOptions,
  fn: async () => {
    const out = await runGpu(Effect.gen(function* () {
      const a = yield* fromArray(Float32Array.from([1, 2, 3, 4, 5]), [5], "f32");
      const b = yield* fromArray(Int32Array.from([-7, 8]), [2], "i32");
      const first = yield* startDownload([a, b]);
      // Written, submitted and read back before the first is collected.
      yield* upload(a, Float32Array.from([10, 20, 30, 40, 50]));
      const second = yield* startDownload([a]);
      const now = yield* download(b);
      yield* upload(a, Float32Array.from([-1, -1, -1, -1, -1]));
      return {
        second: yield* second,
        first: yield* first,
        now,
        empty: yield* yield* startDownload([]),
      };
    }));
    if (!sameBits(out.first[0], [1, 2, 3, 4, 5]) || !sameBits(out.first[1], [-7, 8])) {
      throw new Error(`first: ${out.first}`);
    }
    if (!(out.first[1] instanceof Int32Array)) throw new Error("the i32 tensor came back untyped");
    if (!sameBits(out.second[0], [10, 20, 30, 40, 50])) throw new Error(`second: ${out.second}`);
    if (!sameBits(out.now, [-7, 8]) || out.empty.length !== 0) throw new Error(`${out.now}`);
  },
});
