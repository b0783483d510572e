/**
 * The command dispatcher: reads the command word, prints help where asked,
 * parses the command's options and hands them to the command's body. The
 * bodies are passed in, so `main.ts` is a thin switch onto the engine and
 * this module stays testable without a GPU.
 *
 * @module
 */
import { Effect, Result } from "effect";
import type { DataWriteError } from "../data/errors.ts";
import type { SyntheticOptions } from "../data/synthetic/write.ts";
import type { ImageEncodeError } from "../data/image.ts";
import { CliError } from "./errors.ts";
import { type EvalCommand, parseEvalOptions } from "./eval_options.ts";
import { COMMAND_NAMES, type CommandName, helpText } from "./help.ts";
import { closest } from "./suggest.ts";
import { parseSynthOptions, runSynth } from "./synth.ts";
import { parseTrainOptions, type TrainCommand } from "./train_options.ts";

/** How the built-in `synth` body can fail. */
export type SynthError = DataWriteError | ImageEncodeError;

/** The bodies of the commands; `synth` defaults to {@link runSynth}. */
export interface CliCommands<E, R> {
  readonly train: (command: TrainCommand) => Effect.Effect<unknown, E, R>;
  readonly eval: (command: EvalCommand) => Effect.Effect<unknown, E, R>;
  readonly synth?: (options: SyntheticOptions) => Effect.Effect<unknown, E, R>;
  /** Where help goes (default `console.log`). */
  readonly print?: (text: string) => void;
}

const isHelp = (arg: string) => arg === "--help" || arg === "-h";

const fromResult = <A>(result: Result.Result<A, CliError>): Effect.Effect<A, CliError> =>
  Result.isSuccess(result) ? Effect.succeed(result.success) : Effect.fail(result.failure);

/**
 * Runs `gsc <command> [options]` (argv without the program name). `gsc`,
 * `gsc --help`, `gsc help [command]` and `gsc <command> --help` print help and
 * succeed; an unknown command fails with a suggestion.
 */
export function runCli<E, R>(
  argv: readonly string[],
  commands: CliCommands<E, R>,
): Effect.Effect<void, CliError | SynthError | E, R> {
  const print = commands.print ?? console.log;
  const [word, ...rest] = argv;
  if (word === undefined || isHelp(word)) return Effect.sync(() => print(helpText("top")));
  if (word === "help") {
    const topic = rest[0];
    if (topic === undefined) return Effect.sync(() => print(helpText("top")));
    if (!(COMMAND_NAMES as readonly string[]).includes(topic)) return unknownCommand(topic);
    return Effect.sync(() => print(helpText(topic as CommandName)));
  }
  if (!(COMMAND_NAMES as readonly string[]).includes(word)) return unknownCommand(word);
  const command = word as CommandName;
  if (rest.some(isHelp)) return Effect.sync(() => print(helpText(command)));
  switch (command) {
    case "train":
      return fromResult(parseTrainOptions(rest)).pipe(
        Effect.flatMap(commands.train),
        Effect.asVoid,
      );
    case "eval":
      return fromResult(parseEvalOptions(rest)).pipe(Effect.flatMap(commands.eval), Effect.asVoid);
    case "synth": {
      const body: (options: SyntheticOptions) => Effect.Effect<unknown, SynthError | E, R> =
        commands.synth ?? ((options) => runSynth(options, print));
      return fromResult(parseSynthOptions(rest)).pipe(
        Effect.flatMap((options) => body(options)),
        Effect.asVoid,
      );
    }
  }
}

const unknownCommand = (word: string): Effect.Effect<never, CliError> => {
  const guess = closest(word, COMMAND_NAMES);
  return Effect.fail(
    new CliError({
      reason: `unknown command '${word}'${guess ? `; did you mean ${guess}?` : ""} ` +
        `(commands: ${COMMAND_NAMES.join(", ")}; see gsc --help)`,
    }),
  );
};
