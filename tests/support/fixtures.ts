/**
 * Test support for the PyTorch parity fixtures written by
 * `tools/make_fixtures.py` (layouts: NHWC activations, HWIO conv weights,
 * [in, out] linear weights, i32 labels). A fixture file holds tensors named
 * `<case>.<role>` and, in its metadata, each case's parameters as JSON.
 *
 * @module
 */
import { Effect, Result, type Scope } from "effect";
import type { Gpu } from "../../src/gpu/device.ts";
import type { GpuError } from "../../src/gpu/errors.ts";
import { decodeSafetensors, type SafetensorsTensor } from "../../src/io/safetensors.ts";
import { fromArray, type Tensor } from "../../src/tensor/tensor.ts";

const FIXTURES = new URL("../fixtures/", import.meta.url);

/** A loaded fixture file: typed accessors that fail loudly on a missing name. */
export interface Fixture {
  readonly file: string;
  /** A float tensor's shape and values (f32). */
  f32(name: string): { readonly shape: readonly number[]; readonly data: Float32Array };
  /** An int tensor's shape and values (i32). */
  i32(name: string): { readonly shape: readonly number[]; readonly data: Int32Array };
  /** Whether the file holds a tensor of this name. */
  has(name: string): boolean;
  /** A case's parameters (the JSON stored in the metadata under the case name). */
  params<P = Record<string, unknown>>(caseName: string): P;
  /** Uploads a float tensor to the GPU. */
  tensor(name: string): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope>;
  /** Uploads an int tensor (labels, masks) to the GPU. */
  labels(name: string): Effect.Effect<Tensor<"i32">, GpuError, Gpu | Scope.Scope>;
}

/** Loads `tests/fixtures/<relative>` (throws with the decoder's message if it is invalid). */
export const loadFixture = (relative: string): Fixture => {
  const url = new URL(relative, FIXTURES);
  const decoded = decodeSafetensors(Deno.readFileSync(url), relative);
  if (Result.isFailure(decoded)) throw decoded.failure;
  const { tensors, metadata } = decoded.success;
  const get = (name: string, dtype: SafetensorsTensor["dtype"]): SafetensorsTensor => {
    const t = tensors.get(name);
    if (!t) throw new Error(`${relative} has no tensor ${name}`);
    if (t.dtype !== dtype) throw new Error(`${relative}: ${name} is ${t.dtype}, not ${dtype}`);
    return t;
  };
  const f32 = (name: string) => {
    const t = get(name, "F32");
    return { shape: t.shape, data: t.data as Float32Array };
  };
  const i32 = (name: string) => {
    const t = get(name, "I32");
    return { shape: t.shape, data: t.data as Int32Array };
  };
  return {
    file: relative,
    f32,
    i32,
    has: (name) => tensors.has(name),
    params: <P>(caseName: string) => {
      const text = metadata[caseName];
      if (text === undefined) throw new Error(`${relative} has no case ${caseName}`);
      return JSON.parse(text) as P;
    },
    tensor: (name) => Effect.suspend(() => fromArray(f32(name).data, f32(name).shape, "f32")),
    labels: (name) => Effect.suspend(() => fromArray(i32(name).data, i32(name).shape, "i32")),
  };
};

/**
 * How an error is scaled: `unit` divides by max(1, |expected|) element by element;
 * `tensor` by the tensor's largest |expected| (stricter for small tensors such as
 * a network's parameter gradients, whose entries are all well under 1).
 */
export type ParityScale = "unit" | "tensor";

/**
 * Parity tolerance: |a - b| <= tol * scale, with the scale of {@link ParityScale}
 * (the fixtures are float64 results rounded to float32). Throws naming the worst
 * element, its index and both values; returns the worst scaled error.
 */
export const assertParity = (
  actual: ArrayLike<number>,
  expected: { readonly shape: readonly number[]; readonly data: ArrayLike<number> },
  label: string,
  tol = 1e-4,
  scale: ParityScale = "unit",
): number => {
  if (actual.length !== expected.data.length) {
    throw new Error(`${label}: ${actual.length} values, expected ${expected.data.length}`);
  }
  let largest = 0;
  for (let i = 0; i < expected.data.length; i++) {
    largest = Math.max(largest, Math.abs(expected.data[i]));
  }
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const b = expected.data[i];
    const diff = Math.abs(actual[i] - b);
    const denominator = scale === "unit" ? Math.max(1, Math.abs(b)) : largest || 1;
    const excess = Number.isNaN(diff) ? Infinity : diff / denominator;
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (worstExcess > tol) {
    throw new Error(
      `${label} [${expected.shape}] differs from PyTorch at ${worst}: ${actual[worst]} vs ` +
        `${expected.data[worst]} (${scale}-scaled error ${worstExcess.toExponential(2)} > ${tol})`,
    );
  }
  return worstExcess;
};
