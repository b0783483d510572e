/**
 * A benchmark of ops timed with a tuning switch off and on, interleaved in one
 * run (`timeTogether`), printed as a table of ms a call and their ratio; the
 * read-path benchmarks (bench/read_paths.ts, bench/uniform_reads.ts) are two.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { parseArgs } from "node:util";
import type { Gpu } from "../src/gpu/device.ts";
import type { GpuError } from "../src/gpu/errors.ts";
import { type Batch, oursBatch, timeTogether } from "./conv.ts";
import { adapterLine, runBench, table } from "./support.ts";

/** The timed ops: a label and the op's recording. */
export type SwitchOps = Effect.Effect<
  readonly (readonly [string, Effect.Effect<unknown, GpuError, Gpu | Scope.Scope>])[],
  GpuError,
  Gpu | Scope.Scope
>;

/** What a switch benchmark times and prints. */
export interface SwitchBench {
  /** The table's heading, before " on <adapter>". */
  readonly title: string;
  /** The columns: op, time off, time on, ratio (off / on). */
  readonly header: readonly [string, string, string, string];
  readonly ops: SwitchOps;
  /** Sets the switch for the duration of one call (restored after). */
  readonly setting: (on: boolean) => () => void;
  /** Decimals of the ms columns. */
  readonly digits: number;
}

/** `batch` with the switch set as `on` while it runs. */
const under =
  (setting: SwitchBench["setting"], on: boolean, batch: Batch): Batch => async (reps) => {
    const restore = setting(on);
    try {
      return await batch(reps);
    } finally {
      restore();
    }
  };

/** Times every op off and on, interleaved over `rounds`, and prints the table. */
export const benchSwitch = (spec: SwitchBench, rounds: number): Promise<void> =>
  runBench(Effect.gen(function* () {
    console.log(`## ${spec.title} on ${yield* adapterLine}`);
    const context = yield* Effect.context<Gpu>();
    const run = <A>(program: Effect.Effect<A, GpuError, Gpu>) =>
      Effect.runPromise(Effect.provide(program, context));
    const rows: string[][] = [[...spec.header]];
    for (const [label, op] of yield* spec.ops) {
      const batch = oursBatch(op, run);
      const [off, on] = yield* Effect.promise(() =>
        timeTogether([under(spec.setting, false, batch), under(spec.setting, true, batch)], rounds)
      );
      const ms = (seconds: number) => (seconds * 1e3).toFixed(spec.digits);
      rows.push([label, ms(off), ms(on), (off / on).toFixed(2)]);
    }
    console.log(table(rows));
  }));

/** A bench script's `--rounds N` (default 5); refuses anything but a positive integer. */
export const roundsArg = (args: readonly string[]): number => {
  const { values } = parseArgs({ args: [...args], options: { rounds: { type: "string" } } });
  const rounds = Number(values.rounds ?? "5");
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`--rounds ${values.rounds}`);
  return rounds;
};
