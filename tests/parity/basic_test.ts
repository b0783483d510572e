// Parity with PyTorch (tests/fixtures/ops/{elementwise,linear}.safetensors) for the basic
// differentiable ops: add, relu, matmul, and linear built from matmul + a broadcast bias.
import { Effect } from "effect";
import { add, matmul, relu } from "../../src/autograd/basic.ts";
import { constant, grad, parameter } from "../../src/autograd/tape.ts";
import { binary } from "../../src/ops/elementwise.ts";
import { sum } from "../../src/ops/reduce.ts";
import { download } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { assertParity, loadFixture } from "../support/fixtures.ts";

const elementwise = loadFixture("ops/elementwise.safetensors");
const linear = loadFixture("ops/linear.safetensors");

Deno.test({
  name: "add matches PyTorch forward and gradients",
  ...gpuTestOptions,
  fn: async () => {
    const f = elementwise;
    const [y, ga, gb] = await runGpu(Effect.gen(function* () {
      const a = parameter(yield* f.tensor("add.a"), "a");
      const b = parameter(yield* f.tensor("add.b"), "b");
      const out = yield* add(a, b);
      const grads = yield* grad(out, [a, b], yield* f.tensor("add.gy"));
      return [yield* download(out.value), ...(yield* Effect.forEach(grads, download))];
    }));
    assertParity(y, f.f32("add.y"), "add y");
    assertParity(ga, f.f32("add.ga"), "add ga");
    assertParity(gb, f.f32("add.gb"), "add gb");
  },
});

Deno.test({
  name: "relu matches PyTorch forward and gradient",
  ...gpuTestOptions,
  fn: async () => {
    const f = elementwise;
    const [y, gx] = await runGpu(Effect.gen(function* () {
      const x = parameter(yield* f.tensor("relu.x"), "x");
      const out = yield* relu(x);
      const [g] = yield* grad(out, [x], yield* f.tensor("relu.gy"));
      return [yield* download(out.value), yield* download(g)];
    }));
    assertParity(y, f.f32("relu.y"), "relu y");
    assertParity(gx, f.f32("relu.gx"), "relu gx");
  },
});

Deno.test({
  name: "matmul matches PyTorch forward and gradients",
  ...gpuTestOptions,
  fn: async () => {
    const f = linear;
    const [y, ga, gb] = await runGpu(Effect.gen(function* () {
      const a = parameter(yield* f.tensor("matmul.a"), "a");
      const b = parameter(yield* f.tensor("matmul.b"), "b");
      const out = yield* matmul(a, b);
      const grads = yield* grad(out, [a, b], yield* f.tensor("matmul.gy"));
      return [yield* download(out.value), ...(yield* Effect.forEach(grads, download))];
    }));
    assertParity(y, f.f32("matmul.y"), "matmul y");
    assertParity(ga, f.f32("matmul.ga"), "matmul ga");
    assertParity(gb, f.f32("matmul.gb"), "matmul gb");
  },
});

Deno.test({
  name: "linear (x w + b) matches PyTorch forward and gradients",
  ...gpuTestOptions,
  fn: async () => {
    const f = linear;
    const [y, gx, gw, gb] = await runGpu(Effect.gen(function* () {
      const x = parameter(yield* f.tensor("linear.x"), "x");
      const w = parameter(yield* f.tensor("linear.w"), "w");
      const b = constant(yield* f.tensor("linear.b"));
      const xw = yield* matmul(x, w);
      // The bias repeats over rows: the periodic broadcast of the binary op.
      const out = yield* binary("add", xw.value, b.value);
      const gy = yield* f.tensor("linear.gy");
      const [dx, dw] = yield* grad(xw, [x, w], gy);
      const db = yield* sum(gy, 0);
      return yield* Effect.forEach([out, dx, dw, db], download);
    }));
    assertParity(y, f.f32("linear.y"), "linear y");
    assertParity(gx, f.f32("linear.gx"), "linear gx");
    assertParity(gw, f.f32("linear.gw"), "linear gw");
    assertParity(gb, f.f32("linear.gb"), "linear gb");
  },
});
