/**
 * DeepLabV3 training throughput: images/s of a full training step (train
 * forward, cross-entropy, backward, SGD with momentum) and the peak of GPU
 * buffer bytes, for `small` at batch 8, 64x64 and ResNet-18 at batch 4,
 * 128x128 (output stride 16). `--profile` adds a per-kernel breakdown of one
 * `small` step (each dispatch timed alone, so the sum exceeds a real step).
 * `deno run -A bench/model.ts [--profile]`.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { backward } from "../src/autograd/tape.ts";
import { crossEntropy } from "../src/autograd/losses.ts";
import { SeededRng } from "../src/data/rng.ts";
import { Gpu } from "../src/gpu/device.ts";
import type { Kernel } from "../src/gpu/kernel.ts";
import { type BackboneName, deepLabConfig, type DeepLabV3, makeDeepLabV3 } from "../src/nn/mod.ts";
import { makeSgd, type Sgd } from "../src/optim/sgd.ts";
import { fromArray, type Tensor } from "../src/tensor/tensor.ts";
import { adapterLine, runBench, table } from "./support.ts";

interface Case {
  readonly backbone: BackboneName;
  readonly batch: number;
  readonly size: number;
  readonly steps: number;
}

const CASES: readonly Case[] = [
  { backbone: "small", batch: 8, size: 64, steps: 10 },
  { backbone: "resnet18", batch: 4, size: 128, steps: 3 },
];

const CLASSES = 16;

interface Setup {
  readonly model: DeepLabV3;
  readonly sgd: Sgd;
  readonly images: Tensor<"f32">;
  readonly labels: Tensor<"i32">;
  readonly scope: Scope.Scope;
}

const setUp = (c: Case) =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope;
    const model = yield* makeDeepLabV3(deepLabConfig(c.backbone, 16, CLASSES), { seed: 0, scope });
    const groups = model.parameterGroups();
    const sgd = yield* makeSgd(
      [
        { parameters: groups.backbone },
        { parameters: groups.head, lrMultiplier: 10 },
      ],
      { momentum: 0.9, weightDecay: 1e-4 },
      scope,
    );
    const rng = new SeededRng(1, "bench");
    const pixels = c.batch * c.size * c.size;
    const images = yield* fromArray(
      Float32Array.from({ length: pixels * 3 }, () => rng.uniform(-2, 2)),
      [c.batch, c.size, c.size, 3],
      "f32",
    );
    const labels = yield* fromArray(
      Int32Array.from({ length: pixels }, () => rng.int(0, CLASSES - 1)),
      [c.batch, c.size, c.size],
      "i32",
    );
    return { model, sgd, images, labels, scope } satisfies Setup;
  });

/** One training step, recorded (the caller submits). */
const trainStep = (s: Setup) =>
  Effect.scoped(Effect.gen(function* () {
    const out = yield* s.model.forward(s.images, { mode: "train" });
    const loss = yield* crossEntropy(out.logits, s.labels);
    yield* s.sgd.zeroGrad();
    yield* backward(loss, s.model.parameters(), s.scope);
    yield* s.sgd.step(0.01);
  }));

const measure = (c: Case) =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const s = yield* setUp(c);
    for (let i = 0; i < 2; i++) {
      yield* trainStep(s);
      yield* gpu.recorder.sync();
    }
    gpu.pool.resetPeak();
    const start = performance.now();
    for (let i = 0; i < c.steps; i++) {
      yield* trainStep(s);
      yield* gpu.recorder.sync();
    }
    const seconds = (performance.now() - start) / 1000 / c.steps;
    const stats = gpu.pool.stats();
    const params = s.model.parameters().reduce((a, p) => a + p.value.elements, 0);
    return [
      `${c.backbone} b${c.batch} ${c.size}x${c.size}`,
      `${(params / 1e6).toFixed(2)}M`,
      `${(seconds * 1000).toFixed(0)}`,
      `${(c.batch / seconds).toFixed(2)}`,
      `${(stats.peakBytes / 2 ** 20).toFixed(0)}`,
      `${(stats.allocatedBytes / 2 ** 20).toFixed(0)}`,
    ];
  });

/** Times every dispatch of one step alone (sync before and after) and sums by kernel. */
const profile = (c: Case) =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const s = yield* setUp(c);
    yield* trainStep(s);
    yield* gpu.recorder.sync();
    const recorder = gpu.recorder;
    const original = recorder.dispatch.bind(recorder);
    const totals = new Map<string, { ms: number; calls: number }>();
    let fastest = Infinity;
    // deno-lint-ignore no-explicit-any
    (recorder as any).dispatch = (kernel: Kernel, ...rest: any[]) =>
      Effect.gen(function* () {
        yield* recorder.sync();
        const start = performance.now();
        // deno-lint-ignore no-explicit-any
        yield* (original as any)(kernel, ...rest);
        yield* recorder.sync();
        const ms = performance.now() - start;
        fastest = Math.min(fastest, ms);
        const t = totals.get(kernel.name) ?? { ms: 0, calls: 0 };
        totals.set(kernel.name, { ms: t.ms + ms, calls: t.calls + 1 });
      });
    try {
      yield* trainStep(s);
      yield* recorder.sync();
    } finally {
      // deno-lint-ignore no-explicit-any
      delete (recorder as any).dispatch;
    }
    // A submit-and-wait costs far more than a small dispatch on llvmpipe: the fastest
    // call approximates that overhead, subtracted from every call.
    const rows = [...totals]
      .map(([name, t]) =>
        [name, { ms: Math.max(0, t.ms - t.calls * fastest), calls: t.calls }] as const
      )
      .sort((a, b) => b[1].ms - a[1].ms);
    const sum = rows.reduce((a, [, t]) => a + t.ms, 0);
    return [
      ["kernel", "calls", "ms", "share"],
      ...rows.slice(0, 12).map(([name, t]) => [
        name,
        String(t.calls),
        t.ms.toFixed(1),
        `${(100 * t.ms / sum).toFixed(0)}%`,
      ]),
      [
        `(all; ${fastest.toFixed(1)} ms of sync overhead removed a call)`,
        String(rows.reduce((a, [, t]) => a + t.calls, 0)),
        sum.toFixed(0),
        "",
      ],
    ];
  });

/** Runs the model benchmark and prints its tables. */
export const benchModel = (options: { profile?: boolean } = {}) =>
  runBench(Effect.gen(function* () {
    console.log(`\n## DeepLabV3 training step (OS16, ${CLASSES} classes, SGD momentum)`);
    console.log(yield* adapterLine);
    const rows = [["model", "params", "ms/step", "images/s", "peak MiB", "pool MiB"]];
    for (const c of CASES) rows.push(yield* measure(c));
    console.log(table(rows));
    if (options.profile) {
      console.log(`\nPer-kernel time of one small b8 64x64 step:`);
      console.log(table(yield* profile(CASES[0])));
    }
  }));

if (import.meta.main) await benchModel({ profile: Deno.args.includes("--profile") });
