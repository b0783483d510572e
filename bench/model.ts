/**
 * DeepLabV3 training throughput: a full training step (train forward,
 * cross-entropy, backward, SGD with momentum, head at 10x lr) of `small` at
 * batch 8, 64x64, output stride 16 and 8, and ResNet-18 at batch 4, 128x128;
 * per case the dispatches one step records, ms/step, images/s, the peak of GPU
 * buffer bytes (all the pool holds, and the part handed out at once: the rest
 * is free buffers of other sizes), and the same architecture's step in PyTorch (tools/torch_step.py,
 * CPU unless `--torch-device`) with the ratio ours / PyTorch, in one run.
 *
 *     deno run -A bench/model.ts [--profile | --profile-shapes] [--no-torch] [--torch-device cuda]
 *         [--case BACKBONE:BATCH:SIZE[:OS[:STEPS]]]... [--json FILE]
 *     deno run -A bench/model.ts --compare REV [--rounds N]
 *
 * `--profile` adds a per-kernel breakdown of one `small` step (each dispatch
 * timed over 32 back-to-back copies of it, the wait of a submit removed);
 * `--profile-shapes` the same with a row per convolution shape and kernel variant. `--case` replaces the default
 * cases (repeatable). `--compare REV` times `small` b8 64x64 with REV's own
 * bench (in a temporary git worktree) and with this tree's, side by side
 * (bench/compare.ts).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Effect, type Scope } from "effect";
import {
  type BackboneName,
  crossEntropy,
  deepLabConfig,
  type DeepLabV3,
  makeDeepLabV3,
  SeededRng,
} from "../mod.ts";
import {
  backward,
  fromArray,
  Gpu,
  type Kernel,
  makeSgd,
  type Sgd,
  type Tensor,
} from "../kernels.ts";
import { adapterLine, runBench, table, type TorchStep, torchStep } from "./support.ts";
import {
  LOSS_READBACK_EVERY,
  type LossSlot,
  makeLossReadbacks,
} from "../src/incremental/loss_readbacks.ts";

/** One training-step configuration. */
export interface Case {
  readonly backbone: BackboneName;
  readonly outputStride: 8 | 16;
  readonly batch: number;
  readonly size: number;
  /** Timed steps (after two warm-up steps). */
  readonly steps: number;
}

/** The default cases. The first is the one `--profile` and `--compare` use. */
export const CASES: readonly Case[] = [
  { backbone: "small", outputStride: 16, batch: 8, size: 64, steps: 10 },
  { backbone: "small", outputStride: 8, batch: 8, size: 64, steps: 6 },
  { backbone: "resnet18", outputStride: 16, batch: 4, size: 128, steps: 3 },
];

const CLASSES = 16;

/** The row label; old benches print `small b8 64x64` too, which bench/compare.ts parses. */
export const caseLabel = (c: Case): string => `${c.backbone} b${c.batch} ${c.size}x${c.size}`;

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
    const model = yield* makeDeepLabV3(deepLabConfig(c.backbone, c.outputStride, CLASSES), {
      seed: 0,
      scope,
    });
    // As the engine trains: one parameter arena, so SGD is one dispatch.
    yield* model.packParameters();
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

/**
 * One training step, recorded (the caller submits); with `into`, its loss is
 * copied into element `slot` of `losses`, as the engine's batches do.
 */
const trainStep = (s: Setup, into?: LossSlot) =>
  Effect.scoped(Effect.gen(function* () {
    const out = yield* s.model.forward(s.images, { mode: "train" });
    const loss = yield* crossEntropy(out.logits, s.labels);
    yield* s.sgd.zeroGrad();
    yield* backward(loss, s.model.parameters(), s.scope);
    yield* s.sgd.step(0.01);
    if (into) {
      const gpu = yield* Gpu;
      const { buffer, offset } = loss.value;
      gpu.recorder.copy(buffer, offset ?? 0, into.losses.buffer, 4 * into.slot, 4);
    }
  }));

/**
 * `steps` training steps as the engine records them (src/incremental/train_epoch.ts):
 * each loss copied into the engine's readback buffers (`makeLossReadbacks`,
 * a readback started every {@link LOSS_READBACK_EVERY} steps and collected at
 * the next); only the last readback is waited for.
 */
const trainAsTheEngine = (s: Setup, steps: number) =>
  Effect.scoped(Effect.gen(function* () {
    const readbacks = yield* makeLossReadbacks(() => Effect.void);
    for (let i = 0; i < steps; i++) {
      yield* trainStep(s, readbacks.next());
      yield* readbacks.written(i);
    }
    yield* readbacks.finish;
  }));

/** What one case measured on our side. */
export interface StepResult {
  readonly case: Case;
  readonly label: string;
  readonly params: number;
  /** Dispatches recorded by one step (mean over the timed steps). */
  readonly dispatches: number;
  /** Submits made by one step. */
  readonly submits: number;
  /** Mean of the timed steps, each submitted and waited for. */
  readonly msPerStep: number;
  readonly imagesPerSecond: number;
  /**
   * Mean of the same number of steps timed as the engine trains: recorded
   * back to back, each loss copied into a readback buffer whose reading is
   * started every {@link LOSS_READBACK_EVERY} steps and collected at the next
   * (the device waited for only by the last).
   */
  readonly trainMsPerStep: number;
  /** Peak of GPU buffer bytes over the case (weights, optimizer state, activations), MiB. */
  readonly peakMiB: number;
  /** Bytes the buffer pool holds after the timed steps, MiB. */
  readonly poolMiB: number;
  /** Peak of the buffers handed out at once (the free lists left out), MiB. */
  readonly inUseMiB: number;
}

/**
 * Times one case in a scope of its own: the pool is emptied first, so the
 * peak is this case's alone; two warm-up steps, then `steps` timed steps, each
 * submitted and waited for.
 */
export const measure = (c: Case) =>
  Effect.scoped(Effect.gen(function* () {
    const gpu = yield* Gpu;
    gpu.pool.trim();
    gpu.pool.resetPeak();
    const s = yield* setUp(c);
    for (let i = 0; i < 2; i++) {
      yield* trainStep(s);
      yield* gpu.recorder.sync();
    }
    const dispatches = gpu.recorder.dispatches;
    const submits = gpu.recorder.submits;
    const start = performance.now();
    for (let i = 0; i < c.steps; i++) {
      yield* trainStep(s);
      yield* gpu.recorder.sync();
    }
    const seconds = (performance.now() - start) / 1000 / c.steps;
    const stepDispatches = (gpu.recorder.dispatches - dispatches) / c.steps;
    const stepSubmits = (gpu.recorder.submits - submits) / c.steps;
    const trainStart = performance.now();
    yield* trainAsTheEngine(s, c.steps);
    const trainSeconds = (performance.now() - trainStart) / 1000 / c.steps;
    const stats = gpu.pool.stats();
    return {
      case: c,
      label: caseLabel(c),
      params: s.model.parameters().reduce((a, p) => a + p.value.elements, 0),
      dispatches: stepDispatches,
      submits: stepSubmits,
      msPerStep: seconds * 1000,
      imagesPerSecond: c.batch / seconds,
      trainMsPerStep: trainSeconds * 1000,
      peakMiB: stats.peakBytes / 2 ** 20,
      poolMiB: stats.allocatedBytes / 2 ** 20,
      inUseMiB: stats.peakInUseBytes / 2 ** 20,
    } satisfies StepResult;
  }));

/** Times each dispatch of a profiled step over this many back-to-back copies of it. */
const PROFILE_REPEATS = 32;

/**
 * A convolution dispatch's profile row: the kernel, its pass geometry (source
 * -> destination, or for a filter gradient input -> output, as HxWxC), kernel
 * size, stride, dilation and constants; any other dispatch: the kernel.
 */
const shapeKey = (
  kernel: Kernel,
  params: Record<string, number> | undefined,
  constants: Record<string, number> | undefined,
): string => {
  if (!kernel.name.startsWith("shaders/conv/") || params?.k_h === undefined) return kernel.name;
  const p = params;
  const side = (h: number, w: number, c: number) => `${h}x${w}x${c}`;
  const from = p.src_h !== undefined
    ? side(p.src_h, p.src_w, p.src_c)
    : side(p.in_h, p.in_w, p.in_c);
  const to = p.dst_h !== undefined
    ? side(p.dst_h, p.dst_w, p.dst_c)
    : side(p.out_h, p.out_w, p.out_c);
  const flags = Object.entries(constants ?? {}).map(([k, v]) => `${k}=${v}`).join(" ");
  return `${kernel.name.slice("shaders/conv/".length)} b${p.batch} ${from}->${to} ` +
    `k${p.k_h} s${p.stride_h} d${p.dil_h} ${flags}`;
};

/**
 * Times every dispatch of one step by recording it {@link PROFILE_REPEATS}
 * times back to back in one submit (a wait before and after), and sums the
 * per-copy time by kernel. One copy alone would mostly time the wait (about
 * 11 ms on Deno's GL backend, whatever the work), so the copies share it;
 * the wait of an empty submit is measured and subtracted. Kernels that
 * accumulate run on values the copies have changed, which moves their
 * results but not their cost.
 */
const profile = (c: Case, byShape = false) =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const s = yield* setUp(c);
    yield* trainStep(s);
    yield* gpu.recorder.sync();
    const recorder = gpu.recorder;
    const original = recorder.dispatch.bind(recorder);
    const totals = new Map<string, { ms: number; calls: number }>();
    let wait = Infinity;
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      yield* recorder.sync();
      wait = Math.min(wait, performance.now() - start);
    }
    // deno-lint-ignore no-explicit-any
    (recorder as any).dispatch = (kernel: Kernel, ...rest: any[]) =>
      Effect.gen(function* () {
        yield* recorder.sync();
        const start = performance.now();
        for (let r = 0; r < PROFILE_REPEATS; r++) {
          // deno-lint-ignore no-explicit-any
          yield* (original as any)(kernel, ...rest);
        }
        yield* recorder.sync();
        const ms = Math.max(0, performance.now() - start - wait) / PROFILE_REPEATS;
        const key = byShape ? shapeKey(kernel, rest[1], rest[2]) : kernel.name;
        const t = totals.get(key) ?? { ms: 0, calls: 0 };
        totals.set(key, { ms: t.ms + ms, calls: t.calls + 1 });
      });
    try {
      yield* trainStep(s);
      yield* recorder.sync();
    } finally {
      // deno-lint-ignore no-explicit-any
      delete (recorder as any).dispatch;
    }
    const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms);
    const sum = rows.reduce((a, [, t]) => a + t.ms, 0);
    return [
      ["kernel", "calls", "ms", "share"],
      ...rows.slice(0, 40).map(([name, t]) => [
        name,
        String(t.calls),
        t.ms.toFixed(1),
        `${(100 * t.ms / sum).toFixed(0)}%`,
      ]),
      [
        `(all; ${PROFILE_REPEATS} copies a dispatch, a ${wait.toFixed(1)} ms wait removed)`,
        String(rows.reduce((a, [, t]) => a + t.calls, 0)),
        sum.toFixed(0),
        "",
      ],
    ];
  });

/** Options of {@link benchModel}. */
export interface ModelBenchOptions {
  readonly profile?: boolean;
  /** The profile with a row per convolution shape instead of per kernel. */
  readonly profileShapes?: boolean;
  /** false: no PyTorch peer. */
  readonly torch?: boolean;
  /** Where PyTorch runs: "cpu" (default) or "cuda". */
  readonly torchDevice?: string;
  /** Cases to time (default {@link CASES}). */
  readonly cases?: readonly Case[];
  /** Writes every result (ours and PyTorch's) as JSON to this file. */
  readonly json?: string;
}

const fixed = (x: number, digits: number) => x.toFixed(digits);
const count = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));

/** Runs the model benchmark and prints its table (and the PyTorch peer beside it). */
export const benchModel = (options: ModelBenchOptions = {}) =>
  runBench(Effect.gen(function* () {
    const cases = options.cases ?? CASES;
    const torchDevice = options.torchDevice ?? "cpu";
    console.log(`\n## DeepLabV3 training step (${CLASSES} classes, SGD momentum, head 10x lr)`);
    console.log(yield* adapterLine);
    // The cores are shared: a busy machine slows both sides, PyTorch's threads most.
    console.log(
      `load average ${Deno.loadavg()[0].toFixed(2)} on ${navigator.hardwareConcurrency} cores; ` +
        `ours: mean of the timed steps, PyTorch: median; train ms/step: the steps timed as the ` +
        `engine trains (loss readbacks every ${LOSS_READBACK_EVERY} steps, collected a readback ` +
        "later: no wait but the last)",
    );
    const rows = [[
      "model",
      "OS",
      "params",
      "dispatches",
      "ms/step",
      "images/s",
      "train ms/step",
      "peak MiB",
      "in use MiB",
      "pool MiB",
      "torch ms",
      "ours/torch",
    ]];
    const notes: string[] = [];
    const results: { ours: StepResult; torch?: TorchStep }[] = [];
    for (const c of cases) {
      const ours = yield* measure(c);
      let peer: TorchStep | undefined;
      if (options.torch !== false) {
        // After ours, never beside it: both would share the same cores.
        const r = yield* Effect.promise(() =>
          torchStep({ ...c, classes: CLASSES, steps: Math.max(c.steps, 5), device: torchDevice })
        );
        if ("skipped" in r) {
          if (!notes.some((n) => n.startsWith("PyTorch peer skipped"))) {
            notes.push(`PyTorch peer skipped: ${r.skipped}`);
          }
        } else {
          peer = r.result;
          const where = peer.device === "cpu"
            ? `CPU, ${peer.threads} threads`
            : (peer.device_name ?? peer.device);
          const same = peer.params === ours.params ? "match" : "DIFFER";
          notes.push(
            `${ours.label} OS${c.outputStride}: PyTorch ${peer.torch} on ${where}; ` +
              `params ours ${ours.params}, PyTorch ${peer.params} (${same})`,
          );
        }
      }
      results.push({ ours, torch: peer });
      rows.push([
        ours.label,
        String(c.outputStride),
        `${fixed(ours.params / 1e6, 2)}M`,
        count(ours.dispatches),
        fixed(ours.msPerStep, 0),
        fixed(ours.imagesPerSecond, 2),
        fixed(ours.trainMsPerStep, 0),
        fixed(ours.peakMiB, 0),
        fixed(ours.inUseMiB, 0),
        fixed(ours.poolMiB, 0),
        peer ? fixed(peer.ms_per_step, 1) : "-",
        peer ? `${fixed(ours.msPerStep / peer.ms_per_step, 1)}x` : "-",
      ]);
    }
    console.log(table(rows));
    for (const n of notes) console.log(n);
    if (options.json) {
      yield* Effect.promise(() =>
        Deno.writeTextFile(options.json!, JSON.stringify(results, null, 2) + "\n")
      );
    }
    if (options.profile || options.profileShapes) {
      const rows = options.profileShapes ? "kernel and convolution shape" : "kernel";
      console.log(`\nTime per ${rows} of one ${caseLabel(cases[0])} step:`);
      console.log(table(yield* Effect.scoped(profile(cases[0], options.profileShapes))));
    }
  }));

/** Runs `fn` under one setting (a tuning switched on, say) and restores it after. */
export type Setting = <A>(fn: () => Promise<A>) => Promise<A>;

/**
 * Times case `c` ({@link measure}) under each setting in turn, `rounds` times
 * (alternating, so a drift of the host's speed moves every setting alike):
 * one result list per setting, in round order.
 */
export const alternatingSteps = (c: Case, rounds: number, settings: readonly Setting[]) =>
  Effect.gen(function* () {
    const context = yield* Effect.context<Gpu>();
    const run = <A, E>(program: Effect.Effect<A, E, Gpu>) =>
      Effect.runPromise(Effect.provide(program, context));
    const results = settings.map((): StepResult[] => []);
    for (let round = 0; round < rounds; round++) {
      for (const [i, setting] of settings.entries()) {
        results[i].push(yield* Effect.promise(() => setting(() => run(measure(c)))));
      }
    }
    return results;
  });

/** The median of a non-empty list (the upper one of an even count). */
export const median = (values: readonly number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** `BACKBONE:BATCH:SIZE[:OS[:STEPS]]`, e.g. `resnet101:8:512:16:3`. */
export const parseCase = (spec: string): Case => {
  const [backbone, batch, size, os = "16", steps = "3"] = spec.split(":");
  const c = {
    backbone: backbone as BackboneName,
    batch: Number(batch),
    size: Number(size),
    outputStride: Number(os) as 8 | 16,
    steps: Number(steps),
  };
  const positive = (x: number) => Number.isInteger(x) && x > 0;
  if (
    !["small", "resnet18", "resnet34", "resnet50", "resnet101"].includes(c.backbone) ||
    !positive(c.batch) || !positive(c.size) || !positive(c.steps) ||
    (c.outputStride !== 8 && c.outputStride !== 16)
  ) throw new RangeError(`--case ${spec}: expected BACKBONE:BATCH:SIZE[:OS[:STEPS]]`);
  return c;
};

/** The command line of bench/model.ts (also reached through bench/main.ts). */
export const modelMain = async (args: readonly string[]) => {
  const { values } = parseArgs({
    args: args.filter((a) => a !== "--"),
    options: {
      profile: { type: "boolean" },
      "profile-shapes": { type: "boolean" },
      "no-torch": { type: "boolean" },
      "torch-device": { type: "string" },
      case: { type: "string", multiple: true },
      json: { type: "string" },
      compare: { type: "string" },
      rounds: { type: "string" },
    },
  });
  if (values.compare) {
    const { compareWith } = await import("./compare.ts");
    await compareWith(values.compare, { rounds: Number(values.rounds ?? 1) });
    return;
  }
  await benchModel({
    profile: values.profile,
    profileShapes: values["profile-shapes"],
    torch: !values["no-torch"],
    torchDevice: values["torch-device"],
    cases: values.case?.map(parseCase),
    json: values.json,
  });
};

if (import.meta.main) await modelMain(Deno.args);
