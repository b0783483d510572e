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

/** float32's unit roundoff, 2^-24: the relative error of one rounding. */
export const EPS32 = 2 ** -24;

/** The largest |x| of a tensor (0 when empty): the scale of a tensor-relative atol. */
export const maxAbs = (xs: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < xs.length; i++) m = Math.max(m, Math.abs(xs[i]));
  return m;
};

/**
 * An absolute tolerance: one for every element, or one per element (scaled to the sum of
 * the |terms| that element is computed from, where cancellation makes rtol meaningless).
 */
export type Atol = number | ArrayLike<number>;

/** Largest violation of |actual - expected| <= atol + rtol * |expected|; <= 0 means all within. */
export const worstViolation = (
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol: Atol,
  rtol: number,
): { index: number; excess: number } => {
  if (actual.length !== expected.length) return { index: -1, excess: Infinity };
  if (typeof atol !== "number" && atol.length !== actual.length) {
    return { index: -1, excess: Infinity };
  }
  let worst = { index: -1, excess: -Infinity };
  for (let i = 0; i < actual.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    const a = typeof atol === "number" ? atol : atol[i];
    const excess = Number.isNaN(diff) ? Infinity : diff - (a + rtol * Math.abs(expected[i]));
    if (excess > worst.excess) worst = { index: i, excess };
  }
  return worst;
};

/** The smallest normal float32: WGSL lets a kernel flush smaller (subnormal) values to 0. */
export const MIN_NORMAL32 = 2 ** -126;

/** `xs` with subnormal values flushed to (signed) 0, as a kernel may read its inputs. */
export const flushSubnormals = (xs: ArrayLike<number>): number[] =>
  Array.from(xs, (x) => (Math.abs(x) < MIN_NORMAL32 ? x * 0 : x));

/**
 * Compares f32 results on edge values with float64 references rounded to f32: a NaN must
 * give NaN, an infinity the same infinity, and the rest be within atol + rtol |e| (plus
 * MIN_NORMAL32: a subnormal result may be flushed). Each element must match one of the
 * references (say, one computed from inputs with subnormals flushed, which WGSL allows).
 */
export const assertCloseEdges = (
  actual: ArrayLike<number>,
  references: readonly ArrayLike<number>[],
  atol: Atol,
  rtol: number,
  label = "",
): void => {
  const close = (a: number, e64: number, i: number) => {
    const e = Math.fround(e64);
    if (Number.isNaN(e)) return Number.isNaN(a);
    if (!Number.isFinite(e)) return a === e;
    const t = typeof atol === "number" ? atol : atol[i];
    return Math.abs(a - e) <= t + rtol * Math.abs(e) + MIN_NORMAL32;
  };
  for (const r of references) {
    if (r.length !== actual.length) {
      throw new Error(`${label}: ${actual.length} values, reference has ${r.length}`);
    }
  }
  for (let i = 0; i < actual.length; i++) {
    if (!references.some((r) => close(actual[i], r[i], i))) {
      const t = typeof atol === "number" ? atol : atol[i];
      throw new Error(
        `${label} not close at ${i}: ${actual[i]} vs ${references.map((r) => r[i]).join(" or ")} ` +
          `(atol ${t}, rtol ${rtol})`,
      );
    }
  }
};

/** Throws with a useful message when `actual` is not close to `expected`. */
export const assertClose = (
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol: Atol = 1e-5,
  rtol = 1e-5,
  label = "",
): void => {
  const worst = worstViolation(actual, expected, atol, rtol);
  if (worst.excess > 0) {
    const at = worst.index;
    const a = typeof atol === "number" ? atol : atol[at];
    throw new Error(
      `${label} not close: length ${actual.length} vs ${expected.length}; at ${at}: ` +
        `${actual[at]} vs ${expected[at]} (atol ${a}, rtol ${rtol})`,
    );
  }
};
