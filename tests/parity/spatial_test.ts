// Parity with PyTorch for the spatial ops through their differentiable wrappers:
// max pool 3x3 s2 p1, global average pool (ops/pool.safetensors), bilinear resize with
// align_corners=False up, down and mixed (ops/resize.safetensors), and concatenation
// along channels (ops/concat.safetensors). Forward and input gradients.
import { Effect } from "effect";
import { concat } from "../../src/autograd/concat.ts";
import { globalAvgPool, maxPool2d } from "../../src/autograd/pool.ts";
import { resizeBilinear } from "../../src/autograd/resize.ts";
import { grad, type Node, parameter } from "../../src/autograd/tape.ts";
import type { GpuScoped } from "../../src/autograd/tape.ts";
import { download } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { assertParity, type Fixture, loadFixture } from "../support/fixtures.ts";

const pool = loadFixture("ops/pool.safetensors");
const resize = loadFixture("ops/resize.safetensors");
const concatFixture = loadFixture("ops/concat.safetensors");

/** Runs a one-input op on `<name>.x`, seeds `<name>.gy`, compares y and gx. */
const checkUnary = async (f: Fixture, name: string, op: (x: Node) => GpuScoped<Node>) => {
  const [y, gx] = await runGpu(Effect.gen(function* () {
    const x = parameter(yield* f.tensor(`${name}.x`), "x");
    const out = yield* op(x);
    const [g] = yield* grad(out, [x], yield* f.tensor(`${name}.gy`));
    return [yield* download(out.value), yield* download(g)];
  }));
  assertParity(y, f.f32(`${name}.y`), `${name} y`);
  assertParity(gx, f.f32(`${name}.gx`), `${name} gx`);
};

for (const name of ["max3s2p1", "max3s2p1_odd"]) {
  Deno.test({
    name: `max pool ${name} matches PyTorch forward and gradient`,
    ...gpuTestOptions,
    fn: () => {
      const p = pool.params<{ kernel: number; stride: number; padding: number }>(name);
      return checkUnary(pool, name, (x) => maxPool2d(x, p));
    },
  });
}

Deno.test({
  name: "global average pool matches PyTorch forward and gradient",
  ...gpuTestOptions,
  fn: () => checkUnary(pool, "global_avg", globalAvgPool),
});

for (const name of ["up", "down", "mixed"]) {
  Deno.test({
    name: `bilinear resize ${name} matches PyTorch forward and gradient`,
    ...gpuTestOptions,
    fn: () => {
      const p = resize.params<{ out_h: number; out_w: number }>(name);
      return checkUnary(resize, name, (x) => resizeBilinear(x, p.out_h, p.out_w));
    },
  });
}

Deno.test({
  name: "concat along channels matches PyTorch forward and gradients",
  ...gpuTestOptions,
  fn: async () => {
    const f = concatFixture;
    const [y, ...gs] = await runGpu(Effect.gen(function* () {
      const parts: Node[] = [];
      for (let i = 0; i < 3; i++) parts.push(parameter(yield* f.tensor(`channels.x${i}`), `x${i}`));
      const out = yield* concat(parts);
      const grads = yield* grad(out, parts, yield* f.tensor("channels.gy"));
      return yield* Effect.forEach([out.value, ...grads], download);
    }));
    assertParity(y, f.f32("channels.y"), "concat y");
    gs.forEach((g, i) => assertParity(g, f.f32(`channels.gx${i}`), `concat gx${i}`));
  },
});
