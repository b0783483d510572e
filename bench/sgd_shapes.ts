/**
 * The arena SGD update's CPU shape (chunks of 1024 quads walked by one SIMD
 * row of 8 invocations) against the GPU shape (chunks of 256 quads over 64
 * invocations), src/optim/sgd_arena.ts `CPU_ARENA_SHAPE`, side by side in one
 * run: the update alone on the `small` model's arena (momentum, weight decay,
 * two groups, every parameter with a gradient), then the whole training step
 * (bench/model.ts's `measure`), each alternating over the rounds. Both shapes
 * give the same values bit for bit (tests/optim/sgd_arena_test.ts).
 *
 *     deno run -A bench/sgd_shapes.ts [--rounds 5] [--case small:8:64:16]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Effect } from "effect";
import { backward } from "../src/autograd/tape.ts";
import { Gpu } from "../src/gpu/device.ts";
import { crossEntropy } from "../src/autograd/losses.ts";
import { makeSgd } from "../src/optim/sgd.ts";
import {
  type ArenaShape,
  CPU_ARENA_SHAPE,
  GPU_ARENA_SHAPE,
  setArenaShape,
} from "../src/optim/sgd_arena.ts";
import { deepLabConfig } from "../src/nn/config.ts";
import { makeDeepLabV3 } from "../src/nn/deeplab.ts";
import { fromArray } from "../src/tensor/tensor.ts";
import { alternatingSteps, caseLabel, median, parseCase, type Setting } from "./model.ts";
import { adapterLine, runBench, table } from "./support.ts";

/** Updates timed back to back per round and shape. */
const UPDATES = 32;

const SHAPES: readonly [string, ArenaShape][] = [
  ["CPU: 1024 quads / 8", CPU_ARENA_SHAPE],
  ["GPU: 256 quads / 64", GPU_ARENA_SHAPE],
];

/** Runs `fn` with every optimizer created in it taking `shape`. */
const withShape = (shape: ArenaShape): Setting => (fn) => {
  const saved = setArenaShape(shape);
  return fn().finally(() => setArenaShape(saved));
};

/** Median ms of one update of the `small` model's arena, per shape, alternating. */
const updateTimes = (rounds: number) =>
  Effect.scoped(Effect.gen(function* () {
    const gpu = yield* Gpu;
    const scope = yield* Effect.scope;
    const model = yield* makeDeepLabV3(deepLabConfig("small", 16, 16), { seed: 0, scope });
    yield* model.packParameters();
    const groups = model.parameterGroups();
    const optimizers = [];
    for (const [, shape] of SHAPES) {
      const saved = setArenaShape(shape);
      optimizers.push(
        yield* makeSgd(
          [{ parameters: groups.backbone }, {
            parameters: groups.head,
            lrMultiplier: 10,
          }],
          { momentum: 0.9, weightDecay: 1e-4 },
          scope,
        ),
      );
      setArenaShape(saved);
    }
    // One backward after both exist, so every parameter has a gradient (both flag it).
    const pixels = 8 * 64 * 64;
    const images = yield* fromArray(
      Float32Array.from({ length: 3 * pixels }, (_, i) => Math.sin(i * 0.37)),
      [8, 64, 64, 3],
      "f32",
    );
    const labels = yield* fromArray(
      Int32Array.from({ length: pixels }, (_, i) => (i * 7919) % 16),
      [8, 64, 64],
      "i32",
    );
    yield* Effect.scoped(Effect.gen(function* () {
      const out = yield* model.forward(images, { mode: "train" });
      yield* backward(yield* crossEntropy(out.logits, labels), model.parameters(), scope);
    }));
    const times = SHAPES.map((): number[] => []);
    for (let round = 0; round <= rounds; round++) {
      for (const [i, sgd] of optimizers.entries()) {
        yield* gpu.recorder.sync();
        const start = performance.now();
        for (let u = 0; u < UPDATES; u++) yield* sgd.step(1e-9);
        yield* gpu.recorder.sync();
        // Round 0 warms up (compiles, first steps).
        if (round > 0) times[i].push((performance.now() - start) / UPDATES);
      }
    }
    return times.map(median);
  }));

if (import.meta.main) {
  const { values: flags } = parseArgs({
    args: Deno.args,
    options: {
      case: { type: "string", default: "small:8:64:16" },
      rounds: { type: "string", default: "5" },
    },
  });
  const rounds = Number(flags.rounds);
  await runBench(Effect.gen(function* () {
    console.log(`## The arena SGD update's shapes, on ${yield* adapterLine}`);
    const updates = yield* updateTimes(rounds);
    const c = parseCase(flags.case);
    const steps = yield* alternatingSteps(c, rounds, SHAPES.map(([, s]) => withShape(s)));
    const rows = [["shape", "update ms", `${caseLabel(c)} ms/step`, "train ms/step"]];
    SHAPES.forEach(([label], i) => {
      rows.push([
        label,
        updates[i].toFixed(2),
        median(steps[i].map((s) => s.msPerStep)).toFixed(0),
        median(steps[i].map((s) => s.trainMsPerStep)).toFixed(0),
      ]);
    });
    console.log(table(rows));
    console.log(`medians over ${rounds} alternating rounds (${UPDATES} updates a round)`);
  }));
}
