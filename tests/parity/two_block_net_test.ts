// Parity with PyTorch for a two-block segmentation net built from the differentiable ops
// (tests/fixtures/two_block_net.safetensors): conv3x3 -> BN(train) -> ReLU -> maxpool 3x3
// s2 p1 -> conv3x3 dilation 2 -> BN(train) -> ReLU -> bilinear up to the input size ->
// 1x1 classifier -> cross-entropy (ignore 255, mean over valid pixels). Compares every
// activation, the logits, the loss, the updated running stats, and the gradients of the
// loss with respect to every parameter and the input.
import { Effect } from "effect";
import { relu } from "../../src/autograd/basic.ts";
import { batchNorm, type RunningStats } from "../../src/autograd/norm.ts";
import { maxPool2d } from "../../src/autograd/pool.ts";
import { resizeBilinear } from "../../src/autograd/resize.ts";
import { conv2d } from "../../src/autograd/conv.ts";
import { crossEntropy } from "../../src/autograd/losses.ts";
import { grad, type Node, parameter } from "../../src/autograd/tape.ts";
import { download, type Tensor } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { assertParity, loadFixture } from "../support/fixtures.ts";

const fixture = loadFixture("two_block_net.safetensors");

const PARAMETERS = [
  "conv1.w",
  "bn1.weight",
  "bn1.bias",
  "conv2.w",
  "bn2.weight",
  "bn2.bias",
  "classifier.w",
  "classifier.b",
];

const ACTIVATIONS = ["act.block1", "act.pooled", "act.block2", "act.upsampled", "logits", "loss"];

const RUNNING = ["bn1.running_mean", "bn1.running_var", "bn2.running_mean", "bn2.running_var"];

Deno.test({
  name: "two-block net matches PyTorch: activations, loss, running stats, every gradient",
  ...gpuTestOptions,
  fn: async () => {
    const f = fixture;
    const p = f.params<{ h: number; w: number; momentum: number; eps: number }>("net");
    const bnOptions = { mode: "train", momentum: p.momentum, eps: p.eps } as const;
    const out = await runGpu(Effect.gen(function* () {
      const x = parameter(yield* f.tensor("x"), "x");
      const labels = yield* f.labels("labels");
      const params = new Map<string, Node>();
      for (const name of PARAMETERS) params.set(name, parameter(yield* f.tensor(name), name));
      const at = (name: string) => params.get(name)!;
      const running = new Map<string, Tensor<"f32">>();
      for (const name of RUNNING) running.set(name, yield* f.tensor(name));
      const stats = (i: number): RunningStats => ({
        mean: running.get(`bn${i}.running_mean`)!,
        variance: running.get(`bn${i}.running_var`)!,
      });

      const c1 = yield* conv2d(x, at("conv1.w"), undefined, { padding: 1 });
      const block1 = yield* relu(
        yield* batchNorm(c1, at("bn1.weight"), at("bn1.bias"), stats(1), bnOptions),
      );
      const pooled = yield* maxPool2d(block1, { kernel: 3, stride: 2, padding: 1 });
      const c2 = yield* conv2d(pooled, at("conv2.w"), undefined, { padding: 2, dilation: 2 });
      const block2 = yield* relu(
        yield* batchNorm(c2, at("bn2.weight"), at("bn2.bias"), stats(2), bnOptions),
      );
      const upsampled = yield* resizeBilinear(block2, p.h, p.w);
      const logits = yield* conv2d(upsampled, at("classifier.w"), at("classifier.b"), {});
      const loss = yield* crossEntropy(logits, labels);

      const grads = yield* grad(loss, [x, ...PARAMETERS.map(at)]);
      const activations = [block1, pooled, block2, upsampled, logits, loss].map((n) => n.value);
      return {
        activations: yield* Effect.forEach(activations, download),
        running: yield* Effect.forEach(RUNNING.map((n) => running.get(n)!), download),
        grads: yield* Effect.forEach(grads, download),
      };
    }));
    ACTIVATIONS.forEach((name, i) => assertParity(out.activations[i], f.f32(name), name));
    RUNNING.forEach((name, i) =>
      assertParity(out.running[i], f.f32(`${name}_after`), `${name} after the step`)
    );
    // Gradients are all well under 1: scale by each tensor's largest entry, not by 1.
    ["x", ...PARAMETERS].forEach((name, i) =>
      assertParity(out.grads[i], f.f32(`grad.${name}`), `grad ${name}`, 1e-4, "tensor")
    );
  },
});
