/**
 * The engine's loss readbacks: every loss reaches `report` with its item, in
 * batch order, across both buffers and a last partial one; a full buffer's
 * losses are reported only at the next turn (its readback is started, not
 * waited for) and the rest at `finish`.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Effect } from "effect";
import { Gpu } from "../../src/gpu/device.ts";
import { LOSS_READBACK_EVERY, makeLossReadbacks } from "../../src/incremental/loss_readbacks.ts";
import { fromArray } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";

Deno.test({
  name: "loss readbacks report every loss with its item in order, a turn late",
  ...gpuTestOptions,
  fn: async () => {
    const batches = 2 * LOSS_READBACK_EVERY + 3;
    const out = await runGpu(Effect.scoped(Effect.gen(function* () {
      const gpu = yield* Gpu;
      const reported: { item: number; loss: number }[] = [];
      // How many losses were reported once each batch was written.
      const seenAfter: number[] = [];
      const readbacks = yield* makeLossReadbacks((losses, items: readonly number[]) =>
        Effect.sync(() => items.forEach((item, i) => reported.push({ item, loss: losses[i] })))
      );
      for (let b = 0; b < batches; b++) {
        const loss = yield* fromArray([b * 1.5], [1], "f32");
        const { losses, slot } = readbacks.next();
        gpu.recorder.copy(loss.buffer, loss.offset ?? 0, losses.buffer, 4 * slot, 4);
        yield* readbacks.written(b);
        seenAfter.push(reported.length);
      }
      yield* readbacks.finish;
      return { reported, seenAfter };
    })));
    assertEquals(
      out.reported,
      Array.from({ length: batches }, (_, b) => ({ item: b, loss: b * 1.5 })),
    );
    const n = LOSS_READBACK_EVERY;
    // The first buffer's losses arrive when the second fills, not when the first does.
    assertEquals(out.seenAfter[n - 1], 0);
    assertEquals(out.seenAfter[2 * n - 1], n);
    assertEquals(out.seenAfter[batches - 1], n);
  },
});
