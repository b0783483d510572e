// Parity with PyTorch's batch_norm (tests/fixtures/ops/norm.safetensors) through the
// differentiable wrapper: output, dx, dweight, dbias and the running statistics, in
// training mode (batch statistics, running-stat update) and eval mode.
import { Effect } from "effect";
import { batchNorm } from "../../src/autograd/norm.ts";
import { grad, parameter } from "../../src/autograd/tape.ts";
import { download } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { assertParity, loadFixture } from "../support/fixtures.ts";

const fixture = loadFixture("ops/norm.safetensors");

for (const mode of ["train", "eval"] as const) {
  Deno.test({
    name: `batch norm (${mode}) matches PyTorch forward, gradients and running stats`,
    ...gpuTestOptions,
    fn: async () => {
      const f = fixture;
      const p = f.params<{ momentum: number; eps: number }>(mode);
      const results = await runGpu(Effect.gen(function* () {
        const x = parameter(yield* f.tensor(`${mode}.x`), "x");
        const weight = parameter(yield* f.tensor(`${mode}.weight`), "weight");
        const bias = parameter(yield* f.tensor(`${mode}.bias`), "bias");
        const running = {
          mean: yield* f.tensor(`${mode}.running_mean`),
          variance: yield* f.tensor(`${mode}.running_var`),
        };
        const y = yield* batchNorm(x, weight, bias, running, {
          mode,
          momentum: p.momentum,
          eps: p.eps,
        });
        const grads = yield* grad(y, [x, weight, bias], yield* f.tensor(`${mode}.gy`));
        return yield* Effect.forEach(
          [y.value, ...grads, running.mean, running.variance],
          download,
        );
      }));
      const [y, gx, gweight, gbias, runningMean, runningVar] = results;
      assertParity(y, f.f32(`${mode}.y`), `${mode} y`);
      assertParity(gx, f.f32(`${mode}.gx`), `${mode} gx`);
      assertParity(gweight, f.f32(`${mode}.gweight`), `${mode} gweight`);
      assertParity(gbias, f.f32(`${mode}.gbias`), `${mode} gbias`);
      assertParity(runningMean, f.f32(`${mode}.running_mean_after`), `${mode} running mean`);
      assertParity(runningVar, f.f32(`${mode}.running_var_after`), `${mode} running var`);
    },
  });
}
