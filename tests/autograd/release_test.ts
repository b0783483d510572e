/**
 * `backward` returns each intermediate gradient's buffer to the pool once its
 * node has passed it on: a deep chain's backward creates a few buffers, not
 * one per node, and the parameter gradients are bit for bit those of a walk
 * that keeps every gradient.
 */
import { Effect } from "effect";
import { add, mul, relu, scale, sumAll } from "../../src/autograd/basic.ts";
import { backward, gradients, type Node, parameter } from "../../src/autograd/tape.ts";
import { Gpu } from "../../src/gpu/device.ts";
import { download, fromArray, type Tensor } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { seededValues } from "../support/arbitrary.ts";
import { bits } from "../support/tracing.ts";

const ELEMENTS = 64 * 1024;
const DEPTH = 24;

/** A chain of DEPTH ops (shared inputs, a ReLU every third) from `w` to a scalar. */
const chain = (w: Node, x: Node) =>
  Effect.gen(function* () {
    let h = yield* mul(w, x);
    for (let i = 0; i < DEPTH; i++) {
      h = i % 3 === 0 ? yield* relu(h) : i % 3 === 1 ? yield* scale(h, 0.9) : yield* add(h, w);
    }
    return yield* sumAll(h);
  });

/** Bytes the pool created during the backward, and w's gradient. */
const run = (release: boolean) =>
  runGpu(Effect.gen(function* () {
    const gpu = yield* Gpu;
    const scope = yield* Effect.scope;
    gpu.pool.trim();
    const w = parameter(yield* fromArray(seededValues(ELEMENTS, 1), [ELEMENTS], "f32"), "w");
    const x = parameter(yield* fromArray(seededValues(ELEMENTS, 2), [ELEMENTS], "f32"), "x");
    const loss = yield* chain(w, x);
    yield* gpu.recorder.sync();
    const before = gpu.pool.stats().allocatedBytes;
    if (release) yield* backward(loss, [w, x], scope);
    else {
      // The same walk into the same sinks, every gradient kept.
      const sinks = new Map<Node, Tensor<"f32">>();
      for (const p of [w, x]) {
        sinks.set(p, yield* fromArray(new Float32Array(ELEMENTS), [ELEMENTS], "f32"));
      }
      yield* gradients(loss, undefined, (node) => Effect.succeed(sinks.get(node)));
      w.grad = sinks.get(w);
    }
    yield* gpu.recorder.sync();
    return {
      created: gpu.pool.stats().allocatedBytes - before,
      grad: yield* download(w.grad!),
    };
  }));

Deno.test({
  name: "backward returns spent gradients to the pool: few buffers for a deep chain, same values",
  ...gpuTestOptions,
  fn: async () => {
    const kept = await run(false);
    const released = await run(true);
    const buffer = ELEMENTS * 4;
    const counts = `kept ${kept.created / buffer}, released ${released.created / buffer} buffers`;
    // Keeping every gradient creates about one buffer per node; releasing, a handful
    // (22 against 6 here; the poisoned pool's buckets are a quarter larger).
    if (kept.created < (DEPTH / 2) * buffer) throw new Error(`too few kept: ${counts}`);
    if (3 * released.created > kept.created) throw new Error(`too many released: ${counts}`);
    if (bits(released.grad) !== bits(kept.grad)) throw new Error("the gradients differ");
  },
});
