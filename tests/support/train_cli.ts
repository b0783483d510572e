/**
 * The `gsc train` command line of the CLI-level tests (resume, shared step
 * 0, run guards): GSC (unless told) on a tiny synthetic set, 32-pixel crops,
 * batch 4 (unless told), quiet.
 */

/** What differs between the tests' runs. */
export interface TinyRun {
  readonly data: string;
  readonly out: string;
  readonly task: string;
  readonly seed: number;
  readonly epochs: number;
  readonly epochsNext: number;
  readonly strips: number;
  /** Default `gsc`. */
  readonly method?: string;
  /** Default 4. */
  readonly batchSize?: number;
}

/** `deno` arguments of a tiny GSC run. */
export const tinyTrainArgs = (run: TinyRun): string[] => [
  "run",
  "-A",
  "src/cli/main.ts",
  "train",
  "--dataset",
  "synth",
  "--data-root",
  run.data,
  "--task",
  run.task,
  "--method",
  run.method ?? "gsc",
  "--epochs",
  String(run.epochs),
  "--epochs-next",
  String(run.epochsNext),
  "--batch-size",
  String(run.batchSize ?? 4),
  "--crop",
  "32",
  "--strips",
  String(run.strips),
  "--seed",
  String(run.seed),
  "--out",
  run.out,
  "--quiet",
];

/** Runs `deno` with `args` to its end; its success, exit code and standard error. */
export const runDeno = async (args: readonly string[]) => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    success: output.success,
    code: output.code,
    stderr: new TextDecoder().decode(output.stderr),
  };
};
