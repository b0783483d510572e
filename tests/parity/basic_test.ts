// Parity with PyTorch (tests/fixtures/ops/{elementwise,linear}.safetensors) for the basic
// differentiable ops: add, relu, matmul, and linear built from them (x w + ones b), so the
// bias gradient comes from the library's backward, not from a sum taken in the test.
import { Effect } from "effect";
import { add, matmul, relu } from "../../src/autograd/basic.ts";
import { constant, grad, parameter } from "../../src/autograd/tape.ts";
import { full } from "../../src/ops/core.ts";
import { download, reshape } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { assertParity, loadFixture } from "../support/fixtures.ts";

// Every tensor to 1e-5 of its largest entry (the fixtures are float64 results in f32).
const TOL = 1e-5;

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
    assertParity(y, f.f32("add.y"), "add y", TOL, "tensor");
    assertParity(ga, f.f32("add.ga"), "add ga", TOL, "tensor");
    assertParity(gb, f.f32("add.gb"), "add gb", TOL, "tensor");
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
    assertParity(y, f.f32("relu.y"), "relu y", TOL, "tensor");
    assertParity(gx, f.f32("relu.gx"), "relu gx", TOL, "tensor");
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
    assertParity(y, f.f32("matmul.y"), "matmul y", TOL, "tensor");
    assertParity(ga, f.f32("matmul.ga"), "matmul ga", TOL, "tensor");
    assertParity(gb, f.f32("matmul.gb"), "matmul gb", TOL, "tensor");
  },
});

Deno.test({
  name: "linear (x w + b) matches PyTorch forward and gradients, the bias's through autograd",
  ...gpuTestOptions,
  fn: async () => {
    const f = linear;
    const [y, gx, gw, gb] = await runGpu(Effect.gen(function* () {
      const x = parameter(yield* f.tensor("linear.x"), "x");
      const w = parameter(yield* f.tensor("linear.w"), "w");
      const bias = yield* f.tensor("linear.b");
      const [rows] = x.value.shape;
      const outs = bias.elements;
      const b = parameter(reshape(bias, [1, outs]), "b");
      // The bias repeats over rows as ones [rows, 1] times b [1, out]: its gradient is
      // ones^T gy, the column sums, from matmul's backward and add's.
      const ones = constant(yield* full([rows, 1], 1, "f32"));
      const out = yield* add(yield* matmul(x, w), yield* matmul(ones, b));
      const grads = yield* grad(out, [x, w, b], yield* f.tensor("linear.gy"));
      return yield* Effect.forEach([out.value, ...grads], download);
    }));
    assertParity(y, f.f32("linear.y"), "linear y", TOL, "tensor");
    assertParity(gx, f.f32("linear.gx"), "linear gx", TOL, "tensor");
    assertParity(gw, f.f32("linear.gw"), "linear gw", TOL, "tensor");
    assertParity(gb, f.f32("linear.gb"), "linear gb", TOL, "tensor");
  },
});
