import fc from "fast-check";
import { conv2dGeometry } from "../../src/ops/conv.ts";
import {
  conv2dBackwardFilterReference,
  conv2dBackwardInputReference,
  conv2dForwardReference,
} from "../reference/conv.ts";
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

/** One spatial axis of a geometry, valid by construction: the padded input holds the dilated kernel. */
const axisArb = fc.record({
  k: fc.integer({ min: 1, max: 3 }),
  stride: fc.integer({ min: 1, max: 3 }),
  padding: fc.integer({ min: 0, max: 2 }),
  dilation: fc.integer({ min: 1, max: 2 }),
  // Input beyond the smallest that fits: 0 gives a single output position.
  extra: fc.integer({ min: 0, max: 5 }),
}).map((a) => {
  const extent = a.dilation * (a.k - 1) + 1;
  return { ...a, extent, size: Math.max(1, extent - 2 * a.padding) + a.extra };
});

const caseArb = fc.record({
  batch: fc.integer({ min: 1, max: 2 }),
  h: axisArb,
  w: axisArb,
  groups: fc.integer({ min: 1, max: 3 }),
  inCg: fc.integer({ min: 1, max: 3 }),
  outCg: fc.integer({ min: 1, max: 3 }),
  seed: fc.integer({ min: 0, max: 1000 }),
});

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

const geometryOf = (r: Case) =>
  conv2dGeometry([r.batch, r.h.size, r.w.size, r.inCg * r.groups], [
    r.h.k,
    r.w.k,
    r.inCg,
    r.outCg * r.groups,
  ], {
    stride: [r.h.stride, r.w.stride],
    padding: [r.h.padding, r.w.padding],
    dilation: [r.h.dilation, r.w.dilation],
    groups: r.groups,
  });

/** Window positions along an axis, counted one by one (not by the output-size formula). */
const windows = (a: Case["h"]) => {
  let count = 0;
  while (count * a.stride + a.extent <= a.size + 2 * a.padding) count++;
  return count;
};

/**
 * The forward written independently of the reference's tap loop: zero-pad the
 * input explicitly, then every tap of every window reads the padded image.
 */
const paddedForward = (r: Case, x: ArrayLike<number>, w: ArrayLike<number>) => {
  const [ph, pw] = [r.h.size + 2 * r.h.padding, r.w.size + 2 * r.w.padding];
  const inC = r.inCg * r.groups;
  const outC = r.outCg * r.groups;
  const xp = new Float64Array(r.batch * ph * pw * inC);
  for (let n = 0; n < r.batch; n++) {
    for (let i = 0; i < r.h.size; i++) {
      for (let j = 0; j < r.w.size; j++) {
        for (let c = 0; c < inC; c++) {
          xp[((n * ph + i + r.h.padding) * pw + j + r.w.padding) * inC + c] =
            x[((n * r.h.size + i) * r.w.size + j) * inC + c];
        }
      }
    }
  }
  const [oh, ow] = [windows(r.h), windows(r.w)];
  const y = new Float64Array(r.batch * oh * ow * outC);
  for (let n = 0; n < r.batch; n++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        for (let g = 0; g < r.groups; g++) {
          for (let o = 0; o < r.outCg; o++) {
            const co = g * r.outCg + o;
            let sum = 0;
            for (let kh = 0; kh < r.h.k; kh++) {
              for (let kw = 0; kw < r.w.k; kw++) {
                const row = i * r.h.stride + kh * r.h.dilation;
                const col = j * r.w.stride + kw * r.w.dilation;
                for (let ci = 0; ci < r.inCg; ci++) {
                  sum += xp[((n * ph + row) * pw + col) * inC + g * r.inCg + ci] *
                    w[((kh * r.w.k + kw) * r.inCg + ci) * outC + co];
                }
              }
            }
            y[((n * oh + i) * ow + j) * outC + co] = sum;
          }
        }
      }
    }
  }
  return { y, oh, ow };
};

/** Kinds of geometry the generated cases must include, and how many of each were compared. */
const kinds = {
  compared: (_: Case) => true,
  "a single output position": (r: Case) => windows(r.h) === 1 || windows(r.w) === 1,
  "an input smaller than the dilated kernel": (r: Case) =>
    r.h.size < r.h.extent || r.w.size < r.w.extent,
  "a stride past the kernel (skipped pixels)": (r: Case) =>
    r.h.stride > r.h.extent || r.w.stride > r.w.extent,
  "a window wholly in the padding": (r: Case) =>
    r.h.padding >= r.h.extent || r.w.padding >= r.w.extent,
  "dilation": (r: Case) => r.h.dilation > 1 || r.w.dilation > 1,
  "groups": (r: Case) => r.groups > 1,
  "different geometry per axis": (r: Case) =>
    r.h.k !== r.w.k || r.h.stride !== r.w.stride || r.h.padding !== r.w.padding ||
    r.h.dilation !== r.w.dilation,
};

const RUNS = 200;
/** Each kind must make up at least this share of the compared runs. */
const MIN_SHARE = 0.1;

const assertKinds = (counts: Record<string, number>) => {
  if (counts.compared !== RUNS) throw new Error(`${counts.compared} of ${RUNS} runs compared`);
  for (const [kind, count] of Object.entries(counts)) {
    if (count < MIN_SHARE * RUNS) {
      throw new Error(`only ${count} of ${RUNS} runs had ${kind}: ${JSON.stringify(counts)}`);
    }
  }
};

Deno.test("conv2d reference forward equals the convolution of the explicitly padded input", () => {
  const counts = Object.fromEntries(Object.keys(kinds).map((k) => [k, 0]));
  fc.assert(
    fc.property(caseArb, (r) => {
      // Valid by construction: a geometry refused here fails the test.
      const g = geometryOf(r);
      const direct = paddedForward(
        r,
        seededValues(r.batch * r.h.size * r.w.size * g.inC, r.seed),
        seededValues(r.h.k * r.w.k * r.inCg * g.outC, r.seed + 1),
      );
      if (g.outH !== direct.oh || g.outW !== direct.ow) {
        throw new Error(`output ${g.outH}x${g.outW}, windows ${direct.oh}x${direct.ow}`);
      }
      const y = conv2dForwardReference(
        g,
        seededValues(r.batch * r.h.size * r.w.size * g.inC, r.seed),
        seededValues(r.h.k * r.w.k * r.inCg * g.outC, r.seed + 1),
      );
      for (let i = 0; i < y.length; i++) {
        if (Math.abs(y[i] - direct.y[i]) > 1e-12 * (1 + Math.abs(direct.y[i]))) {
          throw new Error(`y[${i}] = ${y[i]}, padded input gives ${direct.y[i]}`);
        }
      }
      for (const [kind, holds] of Object.entries(kinds)) if (holds(r)) counts[kind]++;
    }),
    { seed: 42, numRuns: RUNS },
  );
  assertKinds(counts);
});

Deno.test("conv2d references: input and filter gradients are the forward's adjoints", () => {
  const counts = Object.fromEntries(Object.keys(kinds).map((k) => [k, 0]));
  fc.assert(
    fc.property(caseArb, (r) => {
      const g = geometryOf(r);
      const x = seededValues(r.batch * r.h.size * r.w.size * g.inC, r.seed);
      const w = seededValues(r.h.k * r.w.k * r.inCg * g.outC, r.seed + 1);
      const dy = seededValues(r.batch * g.outH * g.outW * g.outC, r.seed + 2);
      const lhs = dot(conv2dForwardReference(g, x, w), dy);
      const viaInput = dot(x, conv2dBackwardInputReference(g, dy, w));
      const viaFilter = dot(w, conv2dBackwardFilterReference(g, x, dy));
      const tol = 1e-9 * (1 + Math.abs(lhs));
      if (Math.abs(lhs - viaInput) > tol || Math.abs(lhs - viaFilter) > tol) {
        throw new Error(`<y, dy> = ${lhs}, <x, dx> = ${viaInput}, <w, dw> = ${viaFilter}`);
      }
      for (const [kind, holds] of Object.entries(kinds)) if (holds(r)) counts[kind]++;
    }),
    { seed: 42, numRuns: RUNS },
  );
  assertKinds(counts);
});

Deno.test("conv2d geometry refuses a padded input smaller than the dilated kernel", () => {
  let refused = 0;
  fc.assert(
    fc.property(
      fc.record({
        k: fc.integer({ min: 2, max: 5 }),
        dilation: fc.integer({ min: 1, max: 3 }),
        padding: fc.integer({ min: 0, max: 2 }),
        short: fc.integer({ min: 1, max: 4 }),
        wide: fc.boolean(),
      }).filter((a) => a.dilation * (a.k - 1) + 1 - 2 * a.padding - a.short >= 1),
      (a) => {
        // `short` pixels fewer than the padded input needs, on one axis; the other axis fits.
        const size = a.dilation * (a.k - 1) + 1 - 2 * a.padding - a.short;
        const fits = a.dilation * (a.k - 1) + 1;
        const [h, w] = a.wide ? [fits, size] : [size, fits];
        let message = "";
        try {
          conv2dGeometry([1, h, w, 1], [a.k, a.k, 1, 1], {
            padding: a.padding,
            dilation: a.dilation,
          });
        } catch (error) {
          message = String(error);
        }
        if (!message.includes("empty")) throw new Error(`accepted ${JSON.stringify(a)}`);
        refused++;
      },
    ),
    { seed: 42, numRuns: 100 },
  );
  if (refused !== 100) throw new Error(`${refused} of 100 refusals checked`);
});
