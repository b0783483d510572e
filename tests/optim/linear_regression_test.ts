import { Effect } from "effect";
import { add, matmul, mul, scale, sub, sumAll } from "../../src/autograd/basic.ts";
import { backward, constant, parameter } from "../../src/autograd/tape.ts";
import { makeSgd } from "../../src/optim/sgd.ts";
import { advancePoly, polyLr, polySchedule } from "../../src/optim/poly.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { seededValues } from "../support/arbitrary.ts";

const M = 41;
const K = 5;
// Heavy-ball momentum 0.9 contracts the error by about sqrt(0.9) a step at best,
// so 150 steps take the loss down by several orders of magnitude (measured: 3.8 -> 6e-7).
const STEPS = 150;

Deno.test({
  name: "SGD with momentum and poly decay fits a linear regression end to end",
  ...gpuTestOptions,
  fn: async () => {
    // y = X w* + b* exactly (no noise), so the minimum loss is 0.
    const x = seededValues(M * K, 3);
    const wStar = [1.5, -2, 0.5, 3, -1];
    const bStar = 0.75;
    const y = new Float32Array(M);
    for (let i = 0; i < M; i++) {
      let s = bStar;
      for (let j = 0; j < K; j++) s += x[i * K + j] * wStar[j];
      y[i] = s;
    }
    const losses = await runGpu(Effect.gen(function* () {
      const scope = yield* Effect.scope;
      const X = constant(yield* fromArray(x, [M, K], "f32"));
      const Y = constant(yield* fromArray(y, [M, 1], "f32"));
      const ones = constant(yield* fromArray(new Float32Array(M).fill(1), [M, 1], "f32"));
      const w = parameter(yield* fromArray(new Float32Array(K), [K, 1], "f32"), "w");
      const b = parameter(yield* fromArray([0], [1, 1], "f32"), "b");
      // The bias as its own group, without weight decay, as batch-norm/bias groups are.
      const sgd = yield* makeSgd(
        [
          { parameters: [w] },
          { parameters: [b], weightDecay: 0 },
        ],
        { momentum: 0.9, weightDecay: 1e-5 },
        scope,
      );
      let schedule = polySchedule(0.1, STEPS);
      const losses: number[] = [];
      for (let t = 0; t < STEPS; t++) {
        losses.push(
          yield* Effect.scoped(Effect.gen(function* () {
            // mean((X w + 1 b - y)^2)
            const prediction = yield* matmul(X, w);
            const withBias = yield* add(prediction, yield* matmul(ones, b));
            const residual = yield* sub(withBias, Y);
            const loss = yield* scale(yield* sumAll(yield* mul(residual, residual)), 1 / M);
            yield* sgd.zeroGrad();
            yield* backward(loss, [w, b], scope);
            yield* sgd.step(polyLr(schedule));
            return (yield* download(loss.value))[0];
          })),
        );
        schedule = advancePoly(schedule);
      }
      return losses;
    }));
    const first = losses[0];
    const last = losses[losses.length - 1];
    console.log(`linear regression loss: ${first.toFixed(4)} -> ${last.toExponential(3)}`);
    if (!(first > 1)) throw new Error(`initial loss ${first} should be large`);
    if (!(last < 1e-4)) throw new Error(`loss ${last} did not fall below 1e-4`);
  },
});
