/**
 * `assertSameForm`, which every fast-form test leans on: bit for bit on a
 * fallback adapter, a tolerance (NaNs of any payload, equal infinities) on a
 * GPU; and `ulpDistance`.
 */
import { throws } from "node:assert/strict";
import type { AdapterReport } from "../../src/gpu/device.ts";
import { assertSameForm, ulpDistance } from "./tracing.ts";

const cpu: AdapterReport = {
  vendor: "mesa",
  architecture: "",
  description: "llvmpipe",
  isFallback: true,
};
const gpu: AdapterReport = {
  vendor: "4318",
  architecture: "",
  description: "a GPU",
  isFallback: false,
};

const f32 = (...xs: number[]) => Float32Array.from(xs);
const nextUp = (x: number) => {
  const u = new Uint32Array(f32(x).buffer);
  u[0] += 1;
  return new Float32Array(u.buffer)[0];
};

Deno.test("ulpDistance counts representable floats between two values, across zero", () => {
  const cases: [number, number, number][] = [
    [1, 1, 0],
    [1, nextUp(1), 1],
    [0, -0, 0],
    [2 ** -149, -(2 ** -149), 2],
    [NaN, NaN, 0],
    [NaN, 1, Infinity],
  ];
  for (const [a, b, d] of cases) {
    if (ulpDistance(a, b) !== d) throw new Error(`${a}, ${b}: ${ulpDistance(a, b)} not ${d}`);
  }
});

Deno.test("assertSameForm: one ulp fails on a fallback adapter and passes on a GPU", () => {
  const slow = f32(1, -2, 0.5);
  const fast = f32(1, -2, nextUp(0.5));
  throws(() => assertSameForm(fast, slow, cpu, "one ulp"), /differ on llvmpipe/);
  assertSameForm(fast, slow, gpu, "one ulp");
  assertSameForm(slow, slow, cpu, "equal");
});

Deno.test("assertSameForm on a GPU: beyond the tolerance, a NaN against a number or another infinity fails", () => {
  throws(() => assertSameForm(f32(1.001), f32(1), gpu, "far"), /far: /);
  throws(() => assertSameForm(f32(NaN), f32(1), gpu, "nan"), /nan: /);
  throws(() => assertSameForm(f32(-Infinity), f32(Infinity), gpu, "inf"), /inf: /);
  throws(() => assertSameForm(f32(1, 2), f32(1), gpu, "length"), /length: 2 values/);
  // NaNs of different payloads are the same NaN there.
  const payload = new Float32Array(new Uint32Array([0x7fc00001]).buffer);
  assertSameForm(payload, f32(NaN), gpu, "payload");
});
