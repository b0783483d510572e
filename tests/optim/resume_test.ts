import { Effect } from "effect";
import { parameter } from "../../src/autograd/tape.ts";
import { makeSgd, type SgdState } from "../../src/optim/sgd.ts";
import {
  advancePoly,
  polyLr,
  type PolySchedule,
  polySchedule,
  polyScheduleFromJson,
} from "../../src/optim/poly.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { seededValues } from "../support/arbitrary.ts";

const SHAPES = [[7, 5], [13], [3, 3, 3]] as const;
const NAMES = ["backbone.weight", "backbone.bias", "head.weight"];
const TOTAL = 6;
const SPLIT = 3;

interface Run {
  readonly weights: Float32Array[];
  readonly state: SgdState;
  readonly schedule: PolySchedule;
}

// Trains steps [from, to) from the given weights, optimizer state and schedule;
// the gradient of step t is a fixed function of t, as a data loader resumed at t gives.
const train = (
  weights: readonly Float32Array[],
  state: SgdState | undefined,
  start: PolySchedule,
  from: number,
  to: number,
  nesterov: boolean,
): Promise<Run> =>
  runGpu(Effect.gen(function* () {
    const scope = yield* Effect.scope;
    const params = [];
    for (let i = 0; i < SHAPES.length; i++) {
      params.push(parameter(yield* fromArray(weights[i], SHAPES[i], "f32"), NAMES[i]));
    }
    const sgd = yield* makeSgd(
      [
        { parameters: [params[0]] },
        { parameters: [params[1]], weightDecay: 0 },
        { parameters: [params[2]], lrMultiplier: 10 },
      ],
      { momentum: 0.9, nesterov, weightDecay: 1e-4 },
      scope,
    );
    if (state) yield* sgd.importState(state);
    let schedule = start;
    for (let t = from; t < to; t++) {
      for (let i = 0; i < params.length; i++) {
        const g = seededValues(params[i].value.elements, 1000 * t + i);
        params[i].grad = yield* fromArray(g, SHAPES[i], "f32");
      }
      yield* sgd.step(polyLr(schedule));
      schedule = advancePoly(schedule);
    }
    const out = [];
    for (const p of params) out.push(yield* download(p.value));
    return { weights: out, state: yield* sgd.exportState(), schedule };
  }));

// Checkpoints hold plain data: copy it, as writing and reading a file would.
const throughCheckpoint = (run: Run): Run => ({
  weights: run.weights.map((w) => w.slice()),
  state: structuredClone(run.state),
  schedule: polyScheduleFromJson(JSON.parse(JSON.stringify(run.schedule))),
});

const bitsEqual = (a: Float32Array, b: Float32Array): boolean => {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.length === y.length && x.every((v, i) => v === y[i]);
};

const sameRun = (a: Run, b: Run): boolean =>
  a.weights.every((w, i) => bitsEqual(w, b.weights[i])) &&
  NAMES.every((n) => bitsEqual(a.state.momentumBuffers[n].data, b.state.momentumBuffers[n].data)) &&
  JSON.stringify(a.state.parameterSteps) === JSON.stringify(b.state.parameterSteps) &&
  a.state.steps === b.state.steps && a.schedule.iteration === b.schedule.iteration;

for (const nesterov of [false, true]) {
  Deno.test({
    name: `export/import of SGD and poly state resumes bit-exactly (nesterov ${nesterov})`,
    ...gpuTestOptions,
    fn: async () => {
      const initial = SHAPES.map((s, i) => seededValues(s.reduce((a, b) => a * b, 1), 7 + i));
      const schedule = polySchedule(0.01, TOTAL);
      const whole = await train(initial, undefined, schedule, 0, TOTAL, nesterov);
      const first = throughCheckpoint(
        await train(initial, undefined, schedule, 0, SPLIT, nesterov),
      );
      const resumed = await train(
        first.weights,
        first.state,
        first.schedule,
        SPLIT,
        TOTAL,
        nesterov,
      );
      if (!sameRun(whole, resumed)) throw new Error("the resumed run differs from the whole run");
      if (whole.state.steps !== TOTAL || whole.schedule.iteration !== TOTAL) {
        throw new Error("counters did not reach the end");
      }
      // Control: without the optimizer state the buffers restart and the run diverges.
      const restarted = await train(
        first.weights,
        undefined,
        first.schedule,
        SPLIT,
        TOTAL,
        nesterov,
      );
      if (whole.weights.every((w, i) => bitsEqual(w, restarted.weights[i]))) {
        throw new Error("dropping the momentum state changed nothing: the test cannot fail");
      }
    },
  });
}
