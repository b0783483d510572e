/**
 * The tiny `gsc train` run of the engine tests: GSC (unless told) on a tiny
 * synthetic set, 32-pixel crops, batch 4 (unless told), quiet. The CLI-level
 * tests (resume, shared step 0, run guards) run it as a `gsc train` process
 * ({@link tinyTrainArgs}); the in-process engine tests parse the same options
 * into the {@link RunConfig} the CLI would build ({@link tinyTrainConfig})
 * and compare tensors exactly with {@link assertSameArray}.
 */
import { Result } from "effect";
import { parseTrainOptions } from "../../src/cli/train_options.ts";
import type { RunConfig } from "../../src/incremental/types.ts";

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

/** The options of `gsc train` (after `train`) of a tiny run. */
export const tinyTrainOptions = (run: TinyRun): string[] => [
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

/** `deno` arguments of a tiny run. */
export const tinyTrainArgs = (run: TinyRun): string[] => [
  "run",
  "-A",
  "src/cli/main.ts",
  "train",
  ...tinyTrainOptions(run),
];

/** The configuration `gsc train` builds from a tiny run's options (for in-process runs). */
export const tinyTrainConfig = (run: TinyRun, ...extra: string[]): RunConfig => {
  const parsed = parseTrainOptions([...tinyTrainOptions(run), ...extra]);
  if (Result.isFailure(parsed)) throw new Error(parsed.failure.message);
  return parsed.success.config;
};

/**
 * Runs `deno` with `args` (and `env` added to this process's environment) to its
 * end; its success, exit code, standard output and error.
 */
export const runDeno = async (args: readonly string[], env: Record<string, string> = {}) => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return {
    success: output.success,
    code: output.code,
    stdout: decode(output.stdout),
    stderr: decode(output.stderr),
  };
};

/** How a child process ended, for messages. */
const describeStatus = (status: Deno.CommandStatus) =>
  `exit code ${status.code}${status.signal ? `, signal ${status.signal}` : ""}`;

/**
 * Polls `ready` every `intervalMs` until it holds, while `child` runs. Fails
 * (with the child's standard error when it is piped) as soon as the child
 * exits without `ready` holding, or, killing the child, once `timeoutMs`
 * have passed: a poll never outlives the process it waits on.
 */
export const pollWhileRunning = async (
  child: Deno.ChildProcess,
  ready: () => Promise<boolean>,
  what: string,
  options: {
    readonly timeoutMs?: number;
    readonly intervalMs?: number;
    readonly stderr?: Promise<string>;
  } = {},
): Promise<void> => {
  const timeoutMs = options.timeoutMs ?? 240_000;
  let exited: Deno.CommandStatus | undefined;
  const status = child.status.then((s) => (exited = s));
  const deadline = performance.now() + timeoutMs;
  const stderr = async () => options.stderr ? `\n${await options.stderr}` : "";
  while (!(await ready())) {
    if (exited) {
      // The child may have got there just before it exited.
      if (await ready()) return;
      throw new Error(
        `the child ended (${describeStatus(exited)}) before ${what}${await stderr()}`,
      );
    }
    if (performance.now() > deadline) {
      try {
        child.kill("SIGKILL");
      } catch {
        // It exited in the meantime.
      }
      await status;
      throw new Error(
        `no ${what} within ${timeoutMs / 1000} s; the child was killed${await stderr()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 20));
  }
};

/**
 * Throws naming the first differing element (and how many differ) unless
 * `actual` holds exactly `expected`'s values (`Object.is`: -0 is not 0).
 * For tensors: deepStrictEqual's diff of two large arrays takes minutes.
 */
export const assertSameArray = (
  actual: ArrayLike<number | bigint>,
  expected: ArrayLike<number | bigint>,
  label: string,
): void => {
  if (actual.length !== expected.length) {
    throw new Error(`${label}: ${actual.length} elements, expected ${expected.length}`);
  }
  let first = -1;
  let differing = 0;
  for (let i = 0; i < actual.length; i++) {
    if (Object.is(actual[i], expected[i])) continue;
    if (first < 0) first = i;
    differing++;
  }
  if (first >= 0) {
    throw new Error(
      `${label}: ${differing} of ${actual.length} elements differ; the first at ${first}: ` +
        `${actual[first]}, expected ${expected[first]}`,
    );
  }
};
