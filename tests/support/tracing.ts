/**
 * Helpers of the tests that compare a kernel's fast form with the form it
 * replaces: which kernels a program dispatched, and a float array's bits.
 */
import { Effect } from "effect";
import { type AdapterReport, describeAdapter, Gpu } from "../../src/gpu/device.ts";

/** The bit patterns of `values`, joined: equal strings mean bit-identical arrays. */
export const bits = (values: Float32Array | Int32Array | Uint32Array): string =>
  Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length)).join();

/** A dispatch seen by {@link tracing}: its kernel and compile-time constants. */
export interface TracedDispatch {
  readonly kernel: string;
  readonly constants: Readonly<Record<string, number>>;
}

/**
 * Runs `program` and names the kernels it dispatches, and with which
 * constants (the pool's poison fills left out).
 */
export const tracing = <A, E, R>(
  program: Effect.Effect<A, E, R>,
): Effect.Effect<
  { result: A; kernels: string[]; dispatches: TracedDispatch[]; adapter: AdapterReport },
  E,
  R | Gpu
> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const kernels: string[] = [];
    const dispatches: TracedDispatch[] = [];
    const original = gpu.recorder.dispatch.bind(gpu.recorder);
    // deno-lint-ignore no-explicit-any
    (gpu.recorder as any).dispatch = (kernel: { name: string }, ...rest: any[]) => {
      if (!kernel.name.includes("poison")) {
        kernels.push(kernel.name);
        dispatches.push({ kernel: kernel.name, constants: rest[2] ?? {} });
      }
      // deno-lint-ignore no-explicit-any
      return (original as any)(kernel, ...rest);
    };
    try {
      return { result: yield* program, kernels, dispatches, adapter: gpu.adapter };
    } finally {
      // deno-lint-ignore no-explicit-any
      delete (gpu.recorder as any).dispatch;
    }
  });

/** How far apart two float32 values are, in units in the last place (NaN: Infinity). */
export const ulpDistance = (a: number, b: number): number => {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  const ordered = (x: number) => {
    const u = new Uint32Array(new Float32Array([x]).buffer)[0];
    return u & 0x80000000 ? -(u & 0x7fffffff) : u;
  };
  return Math.abs(ordered(a) - ordered(b));
};

/**
 * A kernel's fast form against the form it replaces, run on `adapter`. On a
 * fallback (CPU) adapter, where CI runs and training results are pinned, the
 * two must agree bit for bit. A GPU driver may contract a * b + c into one
 * fused operation (or not) differently in two kernels, which WGSL allows, and
 * may give a NaN another payload, so elsewhere each pair must be two NaNs, the
 * same infinity, or finite and within `atol + rtol |slow|`; a difference there
 * is logged with its size in ulps.
 */
export const assertSameForm = (
  fast: Float32Array,
  slow: Float32Array,
  adapter: AdapterReport,
  label: string,
  tolerance: { atol: number; rtol: number } = { atol: 1e-6, rtol: 1e-5 },
): void => {
  if (fast.length !== slow.length) {
    throw new Error(`${label}: ${fast.length} values against ${slow.length}`);
  }
  if (bits(fast) === bits(slow)) return;
  if (adapter.isFallback) {
    throw new Error(`${label}: the two forms differ on ${describeAdapter(adapter)}`);
  }
  let differing = 0;
  let worst = 0;
  for (let i = 0; i < fast.length; i++) {
    const [a, b] = [fast[i], slow[i]];
    if (Number.isNaN(a) && Number.isNaN(b)) continue;
    const close = Number.isFinite(b)
      ? Math.abs(a - b) <= tolerance.atol + tolerance.rtol * Math.abs(b)
      : a === b;
    if (!close) {
      throw new Error(
        `${label}: ${a} against ${b} at ${i} on ${describeAdapter(adapter)} ` +
          `(atol ${tolerance.atol}, rtol ${tolerance.rtol})`,
      );
    }
    const d = ulpDistance(a, b);
    if (d > 0) differing++;
    worst = Math.max(worst, d);
  }
  console.log(
    `${label}: ${differing} of ${fast.length} values differ by up to ${worst} ulp ` +
      `on ${describeAdapter(adapter)} (within atol ${tolerance.atol}, rtol ${tolerance.rtol})`,
  );
};
