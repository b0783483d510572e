/**
 * A tensor's buffer comes from the pool and goes back to it exactly once:
 * when the scope that made it closes (whether it succeeds, fails or is
 * interrupted), or earlier through `release`, after which the scope's close
 * leaves it alone. A bad shape fails before any buffer is taken.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { Effect, Exit } from "effect";
import { Gpu } from "../../src/gpu/device.ts";
import { GpuValidationError } from "../../src/gpu/errors.ts";
import { empty, release, type Tensor } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu, runGpuResult } from "../support/gpu.ts";

/** How a scope holding fresh tensors ends. */
type Ending = "success" | "failure" | "interruption";

const end = (ending: Ending) =>
  ending === "success"
    ? Effect.void
    : ending === "failure"
    ? Effect.fail("the scope's work failed")
    : Effect.interrupt;

Deno.test({
  name: "tensors go back to the pool when their scope closes, however it ends",
  ...gpuTestOptions,
  fn: () =>
    runGpu(Effect.gen(function* () {
      const gpu = yield* Gpu;
      yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(
            fc.array(
              fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 3 }),
              { minLength: 1, maxLength: 12 },
            ),
            fc.constantFrom<Ending>("success", "failure", "interruption"),
            fc.integer({ min: 0, max: 12 }),
            async (shapes, ending, releasedEarly) => {
              // A submit returns the uniform chunk of the dispatches recorded so far (the
              // poisoned pool's fills and checks) to the pool: count what tensors hold.
              const inUse = async () => {
                await Effect.runPromise(gpu.recorder.flush());
                return gpu.pool.stats().inUseBytes;
              };
              const before = await inUse();
              const buffers: GPUBuffer[] = [];
              const exit = await Effect.runPromise(Effect.provideService(
                Effect.exit(Effect.scoped(Effect.gen(function* () {
                  const tensors: Tensor<"f32">[] = [];
                  for (const shape of shapes) tensors.push(yield* empty(shape, "f32"));
                  for (const t of tensors) buffers.push(t.buffer);
                  // Some released early, one of them twice: the scope must not release them again.
                  for (const t of tensors.slice(0, releasedEarly)) yield* release(t);
                  if (releasedEarly > 0) yield* release(tensors[0]);
                  assert.equal(new Set(buffers).size, buffers.length, "each tensor its own buffer");
                  yield* end(ending);
                }))),
                Gpu,
                gpu,
              ));
              assert.equal(Exit.isSuccess(exit), ending === "success");
              if (ending === "interruption") assert.ok(Exit.hasInterrupts(exit));
              assert.equal(await inUse(), before, "every buffer back in the pool");
              // Each went back once: asking for the same shapes again hands out distinct buffers.
              const again = await Effect.runPromise(Effect.provideService(
                Effect.scoped(Effect.gen(function* () {
                  const out: GPUBuffer[] = [];
                  for (const shape of shapes) out.push((yield* empty(shape, "f32")).buffer);
                  return out;
                })),
                Gpu,
                gpu,
              ));
              assert.equal(new Set(again).size, again.length, "a buffer handed out twice");
              assert.equal(await inUse(), before);
            },
          ),
          { seed: 1311, numRuns: 40 },
        )
      );
    })),
});

Deno.test({
  name:
    "a tensor of a bad shape fails with a GpuValidationError naming the shape, taking no buffer",
  ...gpuTestOptions,
  fn: async () => {
    for (const shape of [[-1], [2, 1.5], [3, Number.NaN]]) {
      const result = await runGpuResult(Effect.gen(function* () {
        const gpu = yield* Gpu;
        yield* gpu.recorder.flush();
        const before = gpu.pool.stats().inUseBytes;
        const exit = yield* Effect.exit(empty(shape, "f32"));
        yield* gpu.recorder.flush();
        assert.equal(gpu.pool.stats().inUseBytes, before);
        return exit;
      }));
      assert.ok(result._tag === "Success", "the program itself runs");
      const exit = result.success;
      assert.ok(Exit.isFailure(exit));
      const error = Exit.findErrorOption(exit);
      assert.ok(error._tag === "Some" && error.value instanceof GpuValidationError);
      assert.match(error.value.message, new RegExp(`invalid shape \\[${shape.join(", ")}\\]`));
    }
  },
});
