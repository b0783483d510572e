// Parity with PyTorch's softmax and log-softmax over channels, with temperatures 1 and 2
// (tests/fixtures/ops/softmax.safetensors), through the differentiable wrappers.
import { Effect } from "effect";
import { logSoftmax, softmax } from "../../src/autograd/softmax.ts";
import { grad, parameter } from "../../src/autograd/tape.ts";
import { download } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { assertParity, loadFixture } from "../support/fixtures.ts";

const fixture = loadFixture("ops/softmax.safetensors");

for (const log of [true, false]) {
  for (const t of [1, 2]) {
    const name = `${log ? "log_softmax" : "softmax"}_t${t}`;
    Deno.test({
      name: `${name} matches PyTorch forward and gradient`,
      ...gpuTestOptions,
      fn: async () => {
        const f = fixture;
        const { temperature } = f.params<{ temperature: number }>(name);
        const [y, gx] = await runGpu(Effect.gen(function* () {
          const x = parameter(yield* f.tensor(`${name}.x`), "x");
          const out = yield* (log ? logSoftmax : softmax)(x, { temperature });
          const [g] = yield* grad(out, [x], yield* f.tensor(`${name}.gy`));
          return [yield* download(out.value), yield* download(g)];
        }));
        assertParity(y, f.f32(`${name}.y`), `${name} y`);
        assertParity(gx, f.f32(`${name}.gx`), `${name} gx`);
      },
    });
  }
}
