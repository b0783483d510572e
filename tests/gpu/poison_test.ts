/**
 * The poisoned pool catches the three faults it exists for: an output element
 * a kernel leaves unwritten, a read past an input's end, and a write past an
 * output's end. Each faulty kernel here is written for the purpose.
 */
import { Effect } from "effect";
import { Gpu } from "../../src/gpu/device.ts";
import { defineKernel, linearGrid } from "../../src/gpu/kernel.ts";
import { setPoolPoisoned, takeOutOfBoundsWrites } from "../../src/gpu/poison.ts";
import { download, empty, fromArray } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";

setPoolPoisoned(true);

/** dst[i] = src[i + shift] for i < n (shift 1 reads one element past a src of n). */
const shiftedCopy = defineKernel({
  name: "test/shifted_copy",
  source: `
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= params.n) { return; }
  dst[i + params.dst_shift] = src[i + params.src_shift];
}`,
  bindings: { src: { access: "read", type: "f32" }, dst: { access: "read_write", type: "f32" } },
  params: { n: "u32", src_shift: "u32", dst_shift: "u32" },
  workgroupSize: [64, 1, 1],
  dispatch: ({ n }) => linearGrid(n, 64),
});

const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

const run = (n: number, srcShift: number, dstShift: number, outLength = values.length) =>
  runGpu(Effect.gen(function* () {
    const gpu = yield* Gpu;
    const result = yield* Effect.scoped(Effect.gen(function* () {
      const src = yield* fromArray(values, [values.length], "f32");
      const dst = yield* empty([outLength], "f32");
      yield* gpu.recorder.dispatch(shiftedCopy, { src, dst }, {
        n,
        src_shift: srcShift,
        dst_shift: dstShift,
      });
      return Array.from(yield* download(dst));
    }));
    return { result, writes: yield* takeOutOfBoundsWrites() };
  }));

Deno.test("poisoned pool: a correct kernel sees none of the poison", gpuTestOptions, async () => {
  const { result, writes } = await run(values.length, 0, 0);
  if (JSON.stringify(result) !== JSON.stringify(values)) throw new Error(`${result}`);
  if (writes.words !== 0) throw new Error(`false out-of-bounds report: ${writes.words}`);
});

Deno.test("poisoned pool: unwritten output elements read as NaN", gpuTestOptions, async () => {
  const { result } = await run(6, 0, 0);
  if (result.slice(0, 6).some((v, i) => v !== values[i])) throw new Error(`${result}`);
  if (!result.slice(6).every(Number.isNaN)) throw new Error(`tail not NaN: ${result}`);
});

Deno.test("poisoned pool: a read one past the input's end gives NaN", gpuTestOptions, async () => {
  const { result } = await run(values.length, 1, 0);
  if (result.slice(0, 9).some((v, i) => v !== values[i + 1])) throw new Error(`${result}`);
  if (!Number.isNaN(result[9])) throw new Error(`overread gave ${result[9]}, not NaN`);
});

Deno.test("poisoned pool: a write past the output's end is counted", gpuTestOptions, async () => {
  // 10 values written from offset 8 into a tensor of 10: 8 land past its end.
  const { writes } = await run(values.length, 0, 8);
  if (writes.words !== 8) throw new Error(`expected 8 changed slack words, got ${writes.words}`);
  if (writes.largestBuffer <= 40) throw new Error(`buffer size ${writes.largestBuffer}`);
});

Deno.test(
  "poisoned pool: poison read past one tensor, written past another, is counted",
  gpuTestOptions,
  async () => {
    // Each buffer's poison has a payload of its own, which copies and NaN arithmetic keep:
    // src's slack copied into dst's slack must still show as changed.
    const { writes } = await run(values.length + 1, 0, 0);
    if (writes.words !== 1) throw new Error(`expected 1 changed slack word, got ${writes.words}`);
  },
);
