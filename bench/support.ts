/**
 * Benchmark support: run a program on a fresh device and time GPU work.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { Effect, type Scope } from "effect";
import { describeAdapter, Gpu, type GpuError } from "../kernels.ts";

/** Runs a scoped program with the default GPU layer. */
export const runBench = <A, E>(program: Effect.Effect<A, E, Gpu | Scope.Scope>): Promise<A> => {
  Deno.env.set("XDG_RUNTIME_DIR", Deno.env.get("XDG_RUNTIME_DIR") ?? Deno.makeTempDirSync());
  return Effect.runPromise(Effect.scoped(program).pipe(Effect.provide(Gpu.layer)));
};

/** The adapter's one-line description. */
export const adapterLine: Effect.Effect<string, never, Gpu> = Effect.map(
  Gpu,
  (gpu) => describeAdapter(gpu.adapter),
);

/** Timed batches of `fastestBatch`; the fastest counts. */
const BATCHES = 5;

/**
 * Seconds per call of `record`: two warm-up calls, two timed ones to size
 * the batches, then BATCHES batches of about `seconds / BATCHES` each (one
 * submit and wait per batch: timing single calls would measure latency).
 */
export const fastestBatch = (
  record: Effect.Effect<void, GpuError, Gpu | Scope.Scope>,
  seconds: number,
): Effect.Effect<number, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const batchOf = (count: number) =>
      Effect.gen(function* () {
        const start = performance.now();
        yield* Effect.scoped(Effect.gen(function* () {
          for (let i = 0; i < count; i++) yield* record;
          yield* gpu.recorder.sync();
        }));
        return (performance.now() - start) / 1000 / count;
      });
    yield* batchOf(2); // compiles the pipelines
    const single = Math.max(1e-4, yield* batchOf(2));
    const reps = Math.max(1, Math.round(seconds / BATCHES / single));
    let best = Infinity;
    for (let b = 0; b < BATCHES; b++) best = Math.min(best, yield* batchOf(reps));
    return best;
  });

/** Pads table cells to aligned columns. */
export const table = (rows: readonly (readonly string[])[]): string => {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ")).join("\n");
};

/** A one-line JSON result of tools/torch_step.py. */
export interface TorchStep {
  readonly torch: string;
  readonly backbone: string;
  readonly output_stride: number;
  readonly batch: number;
  readonly size: number;
  readonly params: number;
  readonly device: string;
  readonly device_name?: string;
  readonly threads: number;
  /** Median of the timed steps. */
  readonly ms_per_step: number;
  readonly ms_mean: number;
  readonly ms_min: number;
  readonly images_per_s: number;
  readonly peak_mib?: number;
}

/** What the PyTorch peer needs: the step's shape and where it runs. */
export interface TorchStepOptions {
  readonly backbone: string;
  readonly outputStride: 8 | 16;
  readonly batch: number;
  readonly size: number;
  readonly classes: number;
  readonly steps: number;
  /** "cpu" (default), "cuda", ... */
  readonly device?: string;
}

const TORCH_STEP = fileURLToPath(new URL("../tools/torch_step.py", import.meta.url));

const runPython = async (python: string, args: readonly string[]) => {
  try {
    const out = await new Deno.Command(python, {
      args: [...args],
      stdout: "piped",
      stderr: "piped",
      env: { PYTHONUNBUFFERED: "1" },
    }).output();
    const decode = (b: Uint8Array) => new TextDecoder().decode(b).trim();
    return { ok: out.success, stdout: decode(out.stdout), stderr: decode(out.stderr) };
  } catch (e) {
    return { ok: false, stdout: "", stderr: String(e) };
  }
};

let torchPython: Promise<{ python: string } | { skipped: string }> | undefined;

/**
 * The interpreter that runs the PyTorch peer: `$TORCH_PYTHON` if set, else
 * Debian's `/usr/bin/python3` (its python3-torch belongs to that interpreter),
 * else the `python3` on PATH (a GPU machine's own PyTorch) — the first where
 * `import torch` works.
 */
export const findTorchPython = (): Promise<{ python: string } | { skipped: string }> =>
  torchPython ??= (async () => {
    const env = Deno.env.get("TORCH_PYTHON");
    const candidates = env ? [env] : ["/usr/bin/python3", "python3"];
    const reasons: string[] = [];
    for (const python of candidates) {
      const r = await runPython(python, ["-c", "import torch"]);
      if (r.ok) return { python };
      reasons.push(`${python}: ${r.stderr.split("\n").at(-1) || "failed"}`);
    }
    return { skipped: `no interpreter with torch (${reasons.join("; ")})` };
  })();

/** Times the same DeepLabV3 training step in PyTorch (tools/torch_step.py). */
export const torchStep = async (
  o: TorchStepOptions,
): Promise<{ result: TorchStep } | { skipped: string }> => {
  const found = await findTorchPython();
  if ("skipped" in found) return found;
  const r = await runPython(found.python, [
    TORCH_STEP,
    `--backbone=${o.backbone}`,
    `--os=${o.outputStride}`,
    `--batch=${o.batch}`,
    `--size=${o.size}`,
    `--classes=${o.classes}`,
    `--steps=${o.steps}`,
    `--device=${o.device ?? "cpu"}`,
  ]);
  const line = r.stdout.split("\n").at(-1) ?? "";
  if (!r.ok || !line.startsWith("{")) {
    return { skipped: `tools/torch_step.py failed: ${r.stderr.split("\n").at(-1) ?? ""}` };
  }
  return { result: JSON.parse(line) as TorchStep };
};
