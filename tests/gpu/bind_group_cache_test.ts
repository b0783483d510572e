/**
 * The recorder's bind-group cache: the same kernel over the same buffers
 * makes its bind group once; a trim of the pool (which destroys buffers)
 * empties the cache, so nothing stale is bound after it. Dispatches that
 * differ only in their parameters share one bind group (the parameters are
 * bound at a dynamic offset) and each still reads its own.
 */
import { Effect } from "effect";
import { Gpu } from "../../src/gpu/device.ts";
import { axpyInto, binary } from "../../src/ops/elementwise.ts";
import { fillInto } from "../../src/ops/core.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";

/** Runs `body` with `createBindGroup` counted; `made()` gives the count so far. */
const countingBindGroups = <A, E, R>(
  body: (gpu: Gpu["Service"], made: () => number) => Effect.Effect<A, E, R>,
) =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const device = gpu.device;
    const original = device.createBindGroup.bind(device);
    let made = 0;
    device.createBindGroup = (descriptor: GPUBindGroupDescriptor) => {
      made++;
      return original(descriptor);
    };
    try {
      return yield* body(gpu, () => made);
    } finally {
      device.createBindGroup = original;
    }
  });

Deno.test({
  name: "a repeated dispatch reuses its bind group; after a pool trim new buffers get new ones",
  ...gpuTestOptions,
  fn: async () => {
    const out = await runGpu(countingBindGroups((gpu, made) =>
      Effect.gen(function* () {
        const a = yield* fromArray([1, 2, 3, 4, 5, 6, 7, 8], [8], "f32");
        const b = yield* fromArray([10, 20, 30, 40, 50, 60, 70, 80], [8], "f32");
        const sums: Float32Array[] = [];
        const counts: number[] = [];
        for (let round = 0; round < 5; round++) {
          // The same op into a fresh output each round: the pool hands back the same buffer.
          const result = yield* Effect.scoped(Effect.gen(function* () {
            const sum = yield* binary("add", a, b);
            return yield* download(sum);
          }));
          sums.push(result);
          counts.push(made());
          yield* gpu.recorder.sync();
          if (round === 3) gpu.pool.trim();
        }
        return { sums, counts };
      })
    ));
    for (const sum of out.sums) {
      if (sum.join() !== "11,22,33,44,55,66,77,88") throw new Error(`sum ${sum.join()}`);
    }
    // Rounds 0-1 warm up (the first fills the pool; with a poisoned pool the uploads differ),
    // rounds 2 and 3 record the same dispatches over the same buffers, round 4 follows a trim (new buffers, so new bind groups, and a correct sum).
    const [first, , third, fourth, fifth] = out.counts;
    if (first < 1) throw new Error(`the first round made no bind group: ${out.counts}`);
    if (fourth !== third) throw new Error(`a repeated round made new bind groups: ${out.counts}`);
    if (fifth <= fourth) throw new Error(`after the trim no bind group was made: ${out.counts}`);
  },
});

Deno.test({
  name: "dispatches that differ in their parameters share a bind group and read their own",
  ...gpuTestOptions,
  fn: async () => {
    const out = await runGpu(countingBindGroups((gpu, made) =>
      Effect.gen(function* () {
        // Six elements: the scalar kernel, both tensors in buffers.
        const x = yield* fromArray([1, 2, 3, 4, 5, 6], [6], "f32");
        const y = yield* fromArray([0, 0, 0, 0, 0, 0], [6], "f32");
        yield* axpyInto(x, y, 1);
        yield* fillInto(y, 0);
        yield* gpu.recorder.sync();
        const before = made();
        // One command buffer: three slots of the uniform chunk, one bind group.
        for (const alpha of [1, 10, 100]) yield* axpyInto(x, y, alpha);
        const result = yield* download(y);
        return { result, made: made() - before };
      })
    ));
    if (out.result.join() !== "111,222,333,444,555,666") throw new Error(`y ${out.result.join()}`);
    if (out.made !== 0) throw new Error(`${out.made} bind groups made for repeated dispatches`);
  },
});
