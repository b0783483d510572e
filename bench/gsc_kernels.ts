/**
 * GSC's per-batch PPR kernels in their faster forms against the forms they
 * replace, side by side in one run, at a `small` GSC batch's shapes (8
 * images of 64x64, 64 features, 16 old classes): PPR's prototype-corrected
 * logits at several pixels an invocation against one
 * (`setRelabelPixels`), the prototype sums a feature quad an invocation
 * against one value (`setPrototypeQuads`), and the L2-normalisation on
 * channel quads against f32 (`setDistanceQuads`). Each pair alternates
 * over the rounds; a row gives the median ms of one call of each form and
 * their ratio. Both forms give the same values bit for bit on a CPU adapter
 * (tests/ops/gsc_quads_test.ts, tests/ops/distance_quads_test.ts).
 *
 *     deno run -A bench/gsc_kernels.ts [--rounds 6]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Effect, type Scope } from "effect";
import { Gpu } from "../src/gpu/device.ts";
import type { GpuError } from "../src/gpu/errors.ts";
import { fillInto } from "../src/ops/core.ts";
import { l2Normalize, setDistanceQuads } from "../src/ops/distance.ts";
import { accumulatePrototypes, setPrototypeQuads } from "../src/ops/prototypes.ts";
import { prototypeCorrectedLogits, setRelabelPixels } from "../src/ops/pseudo_relabel.ts";
import { empty, fromArray } from "../src/tensor/tensor.ts";
import { median } from "./model.ts";
import { adapterLine, runBench, table } from "./support.ts";

const PIXELS = 8 * 64 * 64;
const FEATURES = 64;
const CLASSES = 16;
/** Calls timed back to back per round and form. */
const CALLS = 10;

type Call = Effect.Effect<unknown, GpuError, Gpu | Scope.Scope>;

/** A pair to compare: the call, and how to switch the faster form on or off. */
interface Pair {
  readonly name: string;
  readonly call: Call;
  readonly setFast: (on: boolean) => void;
}

/** Mean ms of one call over {@link CALLS}, after one untimed call. */
const timeCalls = (call: Call) =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    yield* Effect.scoped(call);
    yield* gpu.recorder.sync();
    const start = performance.now();
    for (let i = 0; i < CALLS; i++) yield* Effect.scoped(call);
    yield* gpu.recorder.sync();
    return (performance.now() - start) / CALLS;
  });

const values = (n: number, phase: number) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + phase));

if (import.meta.main) {
  const { values: flags } = parseArgs({
    args: Deno.args,
    options: { rounds: { type: "string", default: "6" } },
  });
  const rounds = Number(flags.rounds);
  await runBench(Effect.gen(function* () {
    console.log(
      `## GSC's PPR kernels, faster forms against the ones they replace, on ${yield* adapterLine}`,
    );
    const shape = [8, 64, 64];
    const logits = yield* fromArray(values(PIXELS * CLASSES, 1), [...shape, CLASSES], "f32");
    const features = yield* fromArray(values(PIXELS * FEATURES, 2), [...shape, FEATURES], "f32");
    const prototypes = yield* fromArray(values(CLASSES * FEATURES, 3), [CLASSES, FEATURES], "f32");
    const valid = yield* fromArray(new Uint32Array(CLASSES).fill(1), [CLASSES], "u32");
    // Targets: the classes in turn, every 23rd pixel ignored.
    const classOf = (i: number) => (i % 23 === 0 ? 255 : (i * 7919) % CLASSES);
    const targets = yield* fromArray(
      Int32Array.from({ length: PIXELS }, (_, i) => classOf(i)),
      shape,
      "i32",
    );
    const sums = yield* empty([CLASSES, FEATURES], "f32");
    const counts = yield* empty([CLASSES], "u32");
    yield* fillInto(sums, 0);
    yield* fillInto(counts, 0);
    const pairs: Pair[] = [
      {
        name: "PPR correction, pixels an invocation: rule / 1",
        call: prototypeCorrectedLogits(logits, features, prototypes, valid, { tau: 4 }),
        setFast: (on) => setRelabelPixels(on ? undefined : 1),
      },
      {
        name: "prototype sums (with normalisation): quads / values",
        call: accumulatePrototypes(features, targets, sums, counts),
        setFast: (on) => setPrototypeQuads(on),
      },
      {
        name: "L2-normalisation: quads / f32",
        call: l2Normalize(features),
        setFast: (on) => setDistanceQuads(on),
      },
    ];
    const rows = [["kernel", "faster form ms", "replaced form ms", "speed-up"]];
    for (const pair of pairs) {
      const fast: number[] = [];
      const slow: number[] = [];
      for (let r = 0; r < rounds; r++) {
        for (const on of [true, false]) {
          pair.setFast(on);
          (on ? fast : slow).push(yield* timeCalls(pair.call));
        }
      }
      pair.setFast(true);
      const [f, s] = [median(fast), median(slow)];
      rows.push([pair.name, f.toFixed(2), s.toFixed(2), `${(s / f).toFixed(2)}x`]);
    }
    console.log(table(rows));
    console.log(
      `${PIXELS} pixels, ${FEATURES} features, ${CLASSES} classes; medians over ${rounds} ` +
        `alternating rounds of ${CALLS} calls`,
    );
  }));
}
