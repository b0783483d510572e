/**
 * Per-kernel profile of one real training batch: runs `gsc train ...` (any
 * method, any step) and, once `--skip` batches have been recorded (counted by
 * their optimizer dispatches, so the first later-step batches when training
 * starts from `--step0`), times every dispatch of the next batch over
 * {@link REPEATS} back-to-back copies, prints the per-kernel table and
 * exits. Where `bench/model.ts --profile` times the plain cross-entropy step,
 * this one times a method's whole step: the old model's forward, the
 * method's terms (POD, pseudo labels, PPR, SGC, SSRD) and their gradients.
 *
 *     deno run -A bench/train_profile.ts [--skip N] [--dispatches N] -- train --method gsc \
 *         --step0 runs/x/checkpoints/step-0.safetensors --out runs/profile ...
 *
 * `--dispatches N` ends the profile after N timed dispatches instead of at
 * the batch's optimizer: with `--skip 0` and `--step0`, the first dispatches
 * are GSC's prototype pass over the step-0 images (no batch is trained before).
 *
 * The copies run on values earlier copies changed, which moves results, not
 * costs; the run directory is left half-written (remove it after).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Effect } from "effect";
import { CommandRecorder } from "../src/gpu/recorder.ts";
import type { Kernel } from "../src/gpu/kernel.ts";
import { main } from "../src/cli/main.ts";
import { table } from "./support.ts";

/** Copies of each dispatch timed back to back (one alone would mostly time the wait). */
const REPEATS = 16;

/** The optimizer's dispatch ends every training batch. */
const isOptimizer = (kernel: Kernel) => kernel.name.includes("shaders/optim/");

/** Per-kernel totals of one batch, as table rows. */
const rowsOf = (totals: Map<string, { ms: number; calls: number }>, wait: number) => {
  const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms);
  const sum = rows.reduce((a, [, t]) => a + t.ms, 0);
  return [
    ["kernel", "calls", "ms", "share"],
    ...rows.map(([name, t]) => [
      name,
      String(t.calls),
      t.ms.toFixed(2),
      `${(100 * t.ms / sum).toFixed(0)}%`,
    ]),
    [
      `(all; ${REPEATS} copies a dispatch, a ${wait.toFixed(1)} ms wait removed)`,
      String(rows.reduce((a, [, t]) => a + t.calls, 0)),
      sum.toFixed(1),
      "",
    ],
  ];
};

/** Runs the CLI with the profiler armed; resolves when the profiled batch is printed. */
export const profileTraining = (
  skip: number,
  argv: readonly string[],
  dispatches?: number,
): Promise<number> => {
  const recorder = CommandRecorder.prototype as unknown as {
    dispatch: (kernel: Kernel, ...rest: unknown[]) => Effect.Effect<void, unknown>;
    sync: () => Effect.Effect<void, unknown>;
  };
  const original = recorder.dispatch;
  const totals = new Map<string, { ms: number; calls: number }>();
  let batches = 0;
  let wait: number | undefined;
  return new Promise((resolve) => {
    const timed = (self: typeof recorder, kernel: Kernel, rest: unknown[]) =>
      Effect.gen(function* () {
        if (wait === undefined) {
          wait = Infinity;
          for (let i = 0; i < 5; i++) {
            const start = performance.now();
            yield* self.sync();
            wait = Math.min(wait, performance.now() - start);
          }
        }
        yield* self.sync();
        const start = performance.now();
        for (let r = 0; r < REPEATS; r++) yield* original.call(self, kernel, ...rest);
        yield* self.sync();
        const ms = Math.max(0, performance.now() - start - wait) / REPEATS;
        const t = totals.get(kernel.name) ?? { ms: 0, calls: 0 };
        totals.set(kernel.name, { ms: t.ms + ms, calls: t.calls + 1 });
        const counted = [...totals.values()].reduce((a, t) => a + t.calls, 0);
        if (dispatches === undefined ? isOptimizer(kernel) : counted >= dispatches) {
          console.log(table(rowsOf(totals, wait)));
          resolve(0);
          Deno.exit(0);
        }
      });
    recorder.dispatch = function (this: typeof recorder, kernel: Kernel, ...rest: unknown[]) {
      if (batches < skip) {
        if (isOptimizer(kernel)) batches++;
        return original.call(this, kernel, ...rest);
      }
      return timed(this, kernel, rest);
    };
    main(argv).then((code) => {
      console.error(`the run ended before batch ${skip + 1} was recorded`);
      resolve(code === 0 ? 1 : code);
    });
  });
};

if (import.meta.main) {
  const split = Deno.args.indexOf("--");
  const own = split < 0 ? Deno.args : Deno.args.slice(0, split);
  const { values } = parseArgs({
    args: [...own],
    options: { skip: { type: "string" }, dispatches: { type: "string" } },
  });
  const skip = Number(values.skip ?? "2");
  if (!Number.isInteger(skip) || skip < 0) throw new RangeError(`--skip ${values.skip}`);
  const dispatches = values.dispatches === undefined ? undefined : Number(values.dispatches);
  if (dispatches !== undefined && !(Number.isInteger(dispatches) && dispatches > 0)) {
    throw new RangeError(`--dispatches ${values.dispatches}`);
  }
  const argv = split < 0 ? [] : Deno.args.slice(split + 1);
  Deno.exit(await profileTraining(skip, argv, dispatches));
}
