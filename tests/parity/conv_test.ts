// Parity with PyTorch's conv2d (tests/fixtures/ops/conv.safetensors) through the
// differentiable wrapper: forward, input, filter and bias gradients for every case of the
// fixture (3x3 pad 1, stride 2,
// dilation 2, groups 2, depthwise, vec4-sized channels, with bias, 1x1).
import { Effect } from "effect";
import { conv2d } from "../../src/autograd/conv.ts";
import { grad, parameter } from "../../src/autograd/tape.ts";
import { download } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { assertParity, loadFixture } from "../support/fixtures.ts";

const fixture = loadFixture("ops/conv.safetensors");

interface ConvCase {
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;
  readonly groups: number;
  readonly bias: boolean;
}

const cases = [
  "pad1",
  "stride2",
  "dilation2",
  "groups2",
  "depthwise",
  "depthwise8",
  "depthwise8_stride2",
  "depthwise8_dilation2",
  "vec4",
  "bias",
  "pointwise",
];

for (const name of cases) {
  Deno.test({
    name: `conv2d ${name} matches PyTorch forward and gradients`,
    ...gpuTestOptions,
    fn: async () => {
      const f = fixture;
      const p = f.params<ConvCase>(name);
      const options = {
        stride: p.stride,
        padding: p.padding,
        dilation: p.dilation,
        groups: p.groups,
      };
      const [y, gx, gw, gb] = await runGpu(Effect.gen(function* () {
        const x = parameter(yield* f.tensor(`${name}.x`), "x");
        const w = parameter(yield* f.tensor(`${name}.w`), "w");
        const b = p.bias ? parameter(yield* f.tensor(`${name}.b`), "b") : undefined;
        const out = yield* conv2d(x, w, b, options);
        const grads = yield* grad(out, b ? [x, w, b] : [x, w], yield* f.tensor(`${name}.gy`));
        return yield* Effect.forEach([out.value, ...grads], download);
      }));
      assertParity(y, f.f32(`${name}.y`), `${name} y`);
      assertParity(gx, f.f32(`${name}.gx`), `${name} gx`);
      assertParity(gw, f.f32(`${name}.gw`), `${name} gw`);
      if (p.bias) assertParity(gb!, f.f32(`${name}.gb`), `${name} gb`);
    },
  });
}
