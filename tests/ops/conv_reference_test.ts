import fc from "fast-check";
import { conv2dGeometry } from "../../src/ops/conv.ts";
import {
  conv2dBackwardFilterReference,
  conv2dBackwardInputReference,
  conv2dForwardReference,
} from "../../src/ops/reference/conv.ts";
import { seededValues } from "../support/arbitrary.ts";

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

Deno.test("conv2d reference: a hand-computed 3x3 input with a 2x2 filter, stride and padding", () => {
  // x = 1..9 on a 3x3 image, w = [[1, 2], [3, 4]]; padding 1, stride 2 -> 2x2 output.
  const g = conv2dGeometry([1, 3, 3, 1], [2, 2, 1, 1], { padding: 1, stride: 2 });
  const y = conv2dForwardReference(g, [1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4], [10]);
  // y[0,0] = 4*1; y[0,1] = 3*2 + 4*3; y[1,0] = 2*4 + 4*7; y[1,1] = 1*5 + 2*6 + 3*8 + 4*9.
  const expected = [14, 28, 46, 87];
  if (g.outH !== 2 || g.outW !== 2 || y.some((v, i) => v !== expected[i])) {
    throw new Error(`got ${Array.from(y)}`);
  }
});

Deno.test("conv2d references: input and filter gradients are the forward's adjoints", () => {
  fc.assert(
    fc.property(
      fc.record({
        h: fc.integer({ min: 1, max: 7 }),
        w: fc.integer({ min: 1, max: 7 }),
        k: fc.integer({ min: 1, max: 3 }),
        stride: fc.integer({ min: 1, max: 3 }),
        padding: fc.integer({ min: 0, max: 2 }),
        dilation: fc.integer({ min: 1, max: 2 }),
        groups: fc.integer({ min: 1, max: 3 }),
        inCg: fc.integer({ min: 1, max: 3 }),
        outCg: fc.integer({ min: 1, max: 3 }),
        seed: fc.integer({ min: 0, max: 1000 }),
      }),
      (r) => {
        const options = {
          stride: r.stride,
          padding: r.padding,
          dilation: r.dilation,
          groups: r.groups,
        };
        let g;
        try {
          g = conv2dGeometry([2, r.h, r.w, r.inCg * r.groups], [
            r.k,
            r.k,
            r.inCg,
            r.outCg * r.groups,
          ], options);
        } catch {
          return; // empty output
        }
        const x = seededValues(2 * r.h * r.w * g.inC, r.seed);
        const w = seededValues(r.k * r.k * r.inCg * g.outC, r.seed + 1);
        const dy = seededValues(2 * g.outH * g.outW * g.outC, r.seed + 2);
        const lhs = dot(conv2dForwardReference(g, x, w), dy);
        const viaInput = dot(x, conv2dBackwardInputReference(g, dy, w));
        const viaFilter = dot(w, conv2dBackwardFilterReference(g, x, dy));
        const tol = 1e-9 * (1 + Math.abs(lhs));
        if (Math.abs(lhs - viaInput) > tol || Math.abs(lhs - viaFilter) > tol) {
          throw new Error(`<y, dy> = ${lhs}, <x, dx> = ${viaInput}, <w, dw> = ${viaFilter}`);
        }
      },
    ),
    { seed: 42, numRuns: 200 },
  );
});
