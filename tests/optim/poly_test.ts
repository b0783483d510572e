import fc from "fast-check";
import {
  advancePoly,
  POLY_POWER,
  polyLr,
  polyLrAt,
  polySchedule,
  polyScheduleFromJson,
} from "../../src/optim/poly.ts";
import { polyLrReference } from "../reference/sgd.ts";

const scheduleCase = fc.record({
  baseLr: fc.double({ min: 1e-4, max: 1, noNaN: true }),
  maxIters: fc.integer({ min: 1, max: 50_000 }),
  power: fc.double({ min: 0.1, max: 3, noNaN: true }),
});

Deno.test("poly schedule: base at t = 0, 0 at t = maxIters and beyond", () => {
  fc.assert(
    fc.property(scheduleCase, ({ baseLr, maxIters, power }) => {
      const s = polySchedule(baseLr, maxIters, power);
      return polyLr(s) === baseLr && polyLrAt(s, maxIters) === 0 &&
        polyLrAt(s, maxIters + 7) === 0;
    }),
    { seed: 42, numRuns: 200 },
  );
});

Deno.test("poly schedule is monotone non-increasing and matches the reference", () => {
  fc.assert(
    fc.property(scheduleCase, fc.integer({ min: 0, max: 49_999 }), (c, raw) => {
      const s = polySchedule(c.baseLr, c.maxIters, c.power);
      const t = raw % c.maxIters;
      const here = polyLrAt(s, t);
      const expected = polyLrReference(c.baseLr, t, c.maxIters, c.power);
      return here >= polyLrAt(s, t + 1) && Math.abs(here - expected) <= 1e-15 &&
        here <= c.baseLr;
    }),
    { seed: 42, numRuns: 300 },
  );
});

Deno.test("poly schedule: known values with the default power 0.9", () => {
  const s = polySchedule(0.01, 100);
  if (s.power !== POLY_POWER || POLY_POWER !== 0.9) throw new Error("default power is not 0.9");
  const half = polyLrAt(s, 50);
  // 0.01 * 0.5^0.9 = 0.005358867312681466
  if (Math.abs(half - 0.005358867312681466) > 1e-15) throw new Error(`lr at 50: ${half}`);
  let walked = s;
  for (let i = 0; i < 99; i++) walked = advancePoly(walked);
  const last = polyLr(walked);
  // 0.01 * 0.01^0.9
  if (walked.iteration !== 99 || Math.abs(last - 0.01 * Math.pow(0.01, 0.9)) > 1e-18) {
    throw new Error(`lr at 99: ${last}`);
  }
});

Deno.test("poly schedule round-trips through JSON and rejects malformed data", () => {
  let s = polySchedule(0.007, 30_000, 0.9);
  for (let i = 0; i < 1234; i++) s = advancePoly(s);
  const back = polyScheduleFromJson(JSON.parse(JSON.stringify(s)));
  if (JSON.stringify(back) !== JSON.stringify(s) || polyLr(back) !== polyLr(s)) {
    throw new Error(`round trip changed the schedule: ${JSON.stringify(back)}`);
  }
  const bad: unknown[] = [
    undefined,
    { ...s, iteration: -1 },
    { ...s, iteration: 1.5 },
    { ...s, maxIters: 0 },
    { ...s, baseLr: "0.01" },
    { ...s, power: -1 },
  ];
  for (const value of bad) {
    let threw = false;
    try {
      polyScheduleFromJson(value);
    } catch (e) {
      threw = e instanceof RangeError;
    }
    if (!threw) throw new Error(`accepted ${JSON.stringify(value)}`);
  }
});
