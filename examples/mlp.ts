/**
 * Fits a 2-layer MLP (2 -> 64 -> 1, ReLU) to y = sin(3 x0) + x1^2 with the
 * project's kernels and a hand-written backward pass, printing the loss as
 * it falls. Each step records every dispatch into one command encoder and
 * submits once; the loss is read back only every 100 steps.
 *
 *   deno run -A examples/mlp.ts [--steps 600]
 *
 * @module
 */
import { Effect } from "effect";
import {
  axpyInto,
  binary,
  describeAdapter,
  download,
  fromArray,
  Gpu,
  matmul,
  reduce,
  type Tensor,
  unary,
} from "../kernels.ts";

const SAMPLES = 256;
const HIDDEN = 64;
const LEARNING_RATE = 0.05;

const stepsArg = Deno.args.indexOf("--steps");
const STEPS = stepsArg >= 0 ? Number(Deno.args[stepsArg + 1]) : 600;
if (!Number.isInteger(STEPS) || STEPS < 1) {
  console.error(`--steps expects a positive integer, got ${Deno.args[stepsArg + 1]}`);
  Deno.exit(2);
}

/** Deterministic uniform numbers in [-1, 1) (an LCG; the example needs no quality). */
const uniform = (length: number, seed: number): Float32Array => {
  let s = seed >>> 0;
  return Float32Array.from({ length }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
};

const inputs = uniform(SAMPLES * 2, 1);
const targets = Float32Array.from(
  { length: SAMPLES },
  (_, i) => Math.sin(3 * inputs[2 * i]) + inputs[2 * i + 1] ** 2,
);

/** One SGD step: forward, mean squared error, hand-written backward, update. */
const trainStep = (
  x: Tensor<"f32">,
  t: Tensor<"f32">,
  w1: Tensor<"f32">,
  b1: Tensor<"f32">,
  w2: Tensor<"f32">,
  b2: Tensor<"f32">,
) =>
  Effect.gen(function* () {
    // Forward: h = relu(x w1 + b1), y = h w2 + b2.
    const xw = yield* matmul(x, w1, { m: SAMPLES, n: HIDDEN, k: 2 });
    const h = yield* unary("relu", yield* binary("add", xw, b1));
    const y = yield* matmul(h, w2, { m: SAMPLES, n: 1, k: HIDDEN });
    const diff = yield* binary("sub", yield* binary("add", y, b2), t);
    const loss = yield* reduce("mean", yield* unary("square", diff), 0);
    // Backward of mean((y - t)^2).
    const dy = yield* unary("scaleShift", diff, 2 / SAMPLES);
    const dw2 = yield* matmul(h, dy, { m: HIDDEN, n: 1, k: SAMPLES, transA: true });
    const db2 = yield* reduce("sum", dy, 0);
    const dh = yield* matmul(dy, w2, { m: SAMPLES, n: HIDDEN, k: 1, transB: true });
    const dpre = yield* binary("passWherePositive", dh, h);
    const dw1 = yield* matmul(x, dpre, { m: 2, n: HIDDEN, k: SAMPLES, transA: true });
    const db1 = yield* reduce("sum", dpre, 0);
    // SGD.
    yield* axpyInto(dw1, w1, -LEARNING_RATE);
    yield* axpyInto(db1, b1, -LEARNING_RATE);
    yield* axpyInto(dw2, w2, -LEARNING_RATE);
    yield* axpyInto(db2, b2, -LEARNING_RATE);
    return loss;
  });

const program = Effect.gen(function* () {
  const gpu = yield* Gpu;
  console.log(`adapter: ${describeAdapter(gpu.adapter)}`);
  const x = yield* fromArray(inputs, [SAMPLES, 2], "f32");
  const t = yield* fromArray(targets, [SAMPLES, 1], "f32");
  const w1 = yield* fromArray(uniform(2 * HIDDEN, 2).map((v) => v * 1.5), [2, HIDDEN], "f32");
  const b1 = yield* fromArray(uniform(HIDDEN, 3).map((v) => v * 0.5), [HIDDEN], "f32");
  const w2 = yield* fromArray(uniform(HIDDEN, 4).map((v) => v * 0.25), [HIDDEN, 1], "f32");
  const b2 = yield* fromArray([0], [1], "f32");
  const start = performance.now();
  let first = NaN;
  let last = NaN;
  for (let step = 1; step <= STEPS; step++) {
    const loss = yield* Effect.scoped(
      Effect.gen(function* () {
        const loss = yield* trainStep(x, t, w1, b1, w2, b2);
        // Reading back forces a wait on the GPU: do it only now and then.
        return step === 1 || step % 100 === 0 || step === STEPS
          ? (yield* download(loss))[0]
          : undefined;
      }),
    );
    if (loss !== undefined) {
      if (step === 1) first = loss;
      last = loss;
      console.log(`step ${String(step).padStart(4)}  loss ${loss.toFixed(5)}`);
    }
    yield* gpu.recorder.flush();
  }
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `${STEPS} steps in ${seconds.toFixed(2)} s (${(STEPS / seconds).toFixed(0)} steps/s); ` +
      `loss ${first.toFixed(4)} -> ${last.toFixed(4)}`,
  );
  if (!(last < first / 4)) {
    return yield* Effect.fail(new Error(`the loss did not fall enough: ${first} -> ${last}`));
  }
});

Deno.env.set("XDG_RUNTIME_DIR", Deno.env.get("XDG_RUNTIME_DIR") ?? Deno.makeTempDirSync());
await Effect.runPromise(Effect.scoped(program).pipe(Effect.provide(Gpu.layer)));
