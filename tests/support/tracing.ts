/**
 * Helpers of the tests that compare a kernel's fast form with the form it
 * replaces: which kernels a program dispatched, and a float array's bits.
 */
import { Effect } from "effect";
import { Gpu } from "../../src/gpu/device.ts";

/** The bit patterns of `values`, joined: equal strings mean bit-identical arrays. */
export const bits = (values: Float32Array | Int32Array | Uint32Array): string =>
  Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length)).join();

/** Runs `program` and names the kernels it dispatches (the pool's poison fills left out). */
export const tracing = <A, E, R>(
  program: Effect.Effect<A, E, R>,
): Effect.Effect<{ result: A; kernels: string[] }, E, R | Gpu> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const kernels: string[] = [];
    const original = gpu.recorder.dispatch.bind(gpu.recorder);
    // deno-lint-ignore no-explicit-any
    (gpu.recorder as any).dispatch = (kernel: { name: string }, ...rest: any[]) => {
      if (!kernel.name.includes("poison")) kernels.push(kernel.name);
      // deno-lint-ignore no-explicit-any
      return (original as any)(kernel, ...rest);
    };
    try {
      return { result: yield* program, kernels };
    } finally {
      // deno-lint-ignore no-explicit-any
      delete (gpu.recorder as any).dispatch;
    }
  });
