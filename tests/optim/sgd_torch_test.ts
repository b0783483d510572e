import { Effect } from "effect";
import { parameter } from "../../src/autograd/tape.ts";
import { makeSgd } from "../../src/optim/sgd.ts";
import { type SgdReferenceState, sgdStepReference } from "../reference/sgd.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
// Written by tools/make_sgd_fixture.py with torch.optim.SGD (float32).
import fixture from "./fixtures/sgd_torch.json" with { type: "json" };

interface TorchCase {
  readonly settings: {
    readonly momentum: number;
    readonly dampening: number;
    readonly nesterov: boolean;
    readonly weight_decay: number;
    readonly head_mult: number;
    readonly head_wd: number;
  };
  readonly lrs: number[];
  readonly initial: number[][];
  readonly grads: number[][][];
  readonly weights: number[][];
  readonly buffers: (number[] | null)[];
}

const cases = fixture.cases as TorchCase[];
const label = (c: TorchCase) => JSON.stringify(c.settings);

Deno.test("the float64 SGD reference reproduces torch.optim.SGD trajectories", () => {
  for (const c of cases) {
    const s = c.settings;
    let states: SgdReferenceState[] = c.initial.map((w) => ({ weight: w, buffer: undefined }));
    c.lrs.forEach((lr, t) => {
      states = states.map((st, i) =>
        sgdStepReference(st, c.grads[t][i], {
          lr: i === 0 ? lr : lr * s.head_mult,
          momentum: s.momentum,
          dampening: s.dampening,
          nesterov: s.nesterov,
          weightDecay: i === 0 ? s.weight_decay : s.head_wd,
        })
      );
    });
    states.forEach((st, i) => {
      assertClose(st.weight, c.weights[i], 1e-6, 1e-6, `${label(c)} weight ${i}`);
      if (c.buffers[i]) assertClose(st.buffer!, c.buffers[i]!, 1e-6, 1e-6, `buffer ${i}`);
    });
  }
});

Deno.test({
  name: "the GPU SGD step reproduces torch.optim.SGD trajectories over groups",
  ...gpuTestOptions,
  fn: async () => {
    for (const c of cases) {
      const s = c.settings;
      const { weights, state } = await runGpu(Effect.gen(function* () {
        const scope = yield* Effect.scope;
        const params = [];
        for (let i = 0; i < c.initial.length; i++) {
          params.push(
            parameter(yield* fromArray(c.initial[i], [c.initial[i].length], "f32"), `p${i}`),
          );
        }
        const sgd = yield* makeSgd([
          { parameters: [params[0]] },
          { parameters: [params[1]], lrMultiplier: s.head_mult, weightDecay: s.head_wd },
        ], {
          momentum: s.momentum,
          dampening: s.dampening,
          nesterov: s.nesterov,
          weightDecay: s.weight_decay,
        }, scope);
        for (let t = 0; t < c.lrs.length; t++) {
          for (let i = 0; i < params.length; i++) {
            params[i].grad = yield* fromArray(c.grads[t][i], [c.grads[t][i].length], "f32");
          }
          yield* sgd.step(c.lrs[t]);
        }
        const weights = [];
        for (const p of params) weights.push(yield* download(p.value));
        return { weights, state: yield* sgd.exportState() };
      }));
      weights.forEach((w, i) => {
        assertClose(w, c.weights[i], 1e-6, 1e-6, `${label(c)} weight ${i}`);
        const torchBuffer = c.buffers[i];
        if (torchBuffer) {
          assertClose(state.momentumBuffers[`p${i}`].data, torchBuffer, 1e-6, 1e-6, `buffer ${i}`);
        }
      });
    }
  },
});
