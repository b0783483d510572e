import { Effect } from "effect";
import { mul, sumAll } from "../../src/autograd/basic.ts";
import { conv2d } from "../../src/autograd/conv.ts";
import { batchNorm } from "../../src/autograd/norm.ts";
import { backward, constant, grad, type Node, parameter } from "../../src/autograd/tape.ts";
import { setSinglePassRows } from "../../src/ops/norm.ts";
import { download, fromArray } from "../../src/tensor/tensor.ts";
import { assertClose, gpuTestOptions, runGpu } from "../support/gpu.ts";
import { seededValues } from "../support/arbitrary.ts";

// conv (bias) -> batch norm -> weighted sum: the parameters whose gradients the ops
// write straight into the parameter's buffer (conv filter and bias, batch-norm affine).
const N = 2, H = 5, W = 5, CIN = 4, COUT = 8;

const build = (
  inputs: { x: number[]; w: number[]; b: number[]; gamma: number[]; beta: number[]; g: number[] },
) =>
  Effect.gen(function* () {
    const x = constant(yield* fromArray(inputs.x, [N, H, W, CIN], "f32"));
    const params = {
      w: parameter(yield* fromArray(inputs.w, [3, 3, CIN, COUT], "f32"), "w"),
      b: parameter(yield* fromArray(inputs.b, [COUT], "f32"), "b"),
      gamma: parameter(yield* fromArray(inputs.gamma, [COUT], "f32"), "gamma"),
      beta: parameter(yield* fromArray(inputs.beta, [COUT], "f32"), "beta"),
    };
    const running = {
      mean: yield* fromArray(new Float32Array(COUT), [COUT], "f32"),
      variance: yield* fromArray(new Float32Array(COUT).fill(1), [COUT], "f32"),
    };
    const y = yield* conv2d(x, params.w, params.b, { padding: 1 });
    const normed = yield* batchNorm(y, params.gamma, params.beta, running, { mode: "train" });
    const weights = constant(yield* fromArray(inputs.g, normed.value.shape, "f32"));
    const loss: Node = yield* sumAll(yield* mul(normed, weights));
    return { loss, params: [params.w, params.b, params.gamma, params.beta] };
  });

for (const chunked of [false, true]) {
  Deno.test({
    name: `gradients written into parameter buffers equal the walk's own and accumulate${
      chunked ? " (chunked batch-norm reductions)" : ""
    }`,
    ...gpuTestOptions,
    fn: async () => {
      const limit = setSinglePassRows(chunked ? 0 : Infinity);
      try {
        await checkWritten();
      } finally {
        setSinglePassRows(limit);
      }
    },
  });
}

/** Gradients of the walk, once and twice into parameter buffers: equal, then doubled. */
async function checkWritten() {
  const inputs = {
    x: [...seededValues(N * H * W * CIN, 1)],
    w: [...seededValues(9 * CIN * COUT, 2, 0.3)],
    b: [...seededValues(COUT, 3)],
    gamma: [...seededValues(COUT, 4)],
    beta: [...seededValues(COUT, 5)],
    g: [...seededValues(N * H * W * COUT, 6)],
  };
  const out = await runGpu(Effect.gen(function* () {
    const paramScope = yield* Effect.scope;
    // The walk's own gradients (no parameter buffers involved).
    const plain = yield* Effect.scoped(Effect.gen(function* () {
      const { loss, params } = yield* build(inputs);
      const grads = yield* grad(loss, params);
      const host = [];
      for (const g of grads) host.push(yield* download(g));
      return host;
    }));
    // Twice into the same parameters' buffers: the second call adds to the first.
    const { loss, params } = yield* build(inputs);
    yield* Effect.scoped(backward(loss, params, paramScope));
    const once = [];
    for (const p of params) once.push(yield* download(p.grad!));
    const again = yield* build(inputs);
    for (let i = 0; i < params.length; i++) again.params[i].grad = params[i].grad;
    yield* Effect.scoped(backward(again.loss, again.params, paramScope));
    const twice = [];
    for (const p of again.params) twice.push(yield* download(p.grad!));
    return { plain, once, twice };
  }));
  out.plain.forEach((g, i) => {
    assertClose(out.once[i], g, 0, 0, `parameter ${i} after one backward`);
    assertClose(out.twice[i], g.map((v) => v + v), 0, 0, `parameter ${i} after two`);
  });
}
