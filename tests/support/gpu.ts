/**
 * Test support: runs Effect programs against one GPU device per test file
 * (device creation is the slow part), and float comparison helpers.
 *
 * @module
 */
import { Effect, ManagedRuntime, type Scope } from "effect";
import { Gpu } from "../../src/gpu/device.ts";
import { takeOutOfBoundsWrites } from "../../src/gpu/poison.ts";

Deno.env.set("XDG_RUNTIME_DIR", Deno.env.get("XDG_RUNTIME_DIR") ?? Deno.makeTempDirSync());

let runtime: ManagedRuntime.ManagedRuntime<Gpu, unknown> | undefined;
let device: GPUDevice | undefined;

const shared = () => {
  if (!runtime) {
    runtime = ManagedRuntime.make(Gpu.layer);
    // Destroy the device while the process still runs: left to the isolate's teardown it has
    // crashed the test process after the summary ("corrupted size vs. prev_size in fastbins").
    globalThis.addEventListener("unload", () => device?.destroy());
  }
  return runtime;
};

/**
 * The program in its own scope, remembering the shared device for the exit
 * hook. With the poisoned pool, a write past any tensor's end made while it
 * ran fails it (its tensors' slack is checked when the scope releases them).
 */
const scoped = <A, E>(program: Effect.Effect<A, E, Gpu | Scope.Scope>) =>
  Effect.gen(function* () {
    device ??= (yield* Gpu).device;
    const value = yield* Effect.scoped(program);
    const writes = yield* takeOutOfBoundsWrites();
    if (writes.words > 0) {
      throw new Error(
        `out-of-bounds GPU writes: ${writes.words} poisoned slack words changed ` +
          `(largest buffer written past its tensor: ${writes.largestBuffer} bytes)`,
      );
    }
    return value;
  });

/** Runs a scoped program on the shared device and returns its value (failures throw). */
export const runGpu = <A, E>(program: Effect.Effect<A, E, Gpu | Scope.Scope>): Promise<A> =>
  shared().runPromise(scoped(program));

/** Runs a program and returns its Exit-like result for failure assertions. */
export const runGpuResult = <A, E>(program: Effect.Effect<A, E, Gpu | Scope.Scope>) =>
  shared().runPromise(Effect.result(scoped(program)));

/** Options every GPU test uses: WebGPU keeps device-level promises alive across tests. */
export const gpuTestOptions = { sanitizeOps: false, sanitizeResources: false } as const;

/** Largest violation of |actual - expected| <= atol + rtol * |expected|; <= 0 means all within. */
export const worstViolation = (
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol: number,
  rtol: number,
): { index: number; excess: number } => {
  if (actual.length !== expected.length) return { index: -1, excess: Infinity };
  let worst = { index: -1, excess: -Infinity };
  for (let i = 0; i < actual.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    const excess = Number.isNaN(diff) ? Infinity : diff - (atol + rtol * Math.abs(expected[i]));
    if (excess > worst.excess) worst = { index: i, excess };
  }
  return worst;
};

/** Throws with a useful message when `actual` is not close to `expected`. */
export const assertClose = (
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol = 1e-5,
  rtol = 1e-5,
  label = "",
): void => {
  const worst = worstViolation(actual, expected, atol, rtol);
  if (worst.excess > 0) {
    const at = worst.index;
    throw new Error(
      `${label} not close: length ${actual.length} vs ${expected.length}; at ${at}: ` +
        `${actual[at]} vs ${expected[at]} (atol ${atol}, rtol ${rtol})`,
    );
  }
};
