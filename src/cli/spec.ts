/**
 * Options as data: each command declares a table of {@link OptionSpec}s that
 * drives tokenising, "did you mean" suggestions and the help text, so the
 * three never disagree. Tokenising uses `node:util`'s `parseArgs` (built in,
 * handles `--name value` and `--name=value`); everything it would only report
 * as a thrown message (unknown options, missing values) is checked here on its
 * tokens, so every problem comes back as a {@link CliError} naming the option.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Result } from "effect";
import { CliError, optionError } from "./errors.ts";
import { closest } from "./suggest.ts";

/** One option of a command. */
export interface OptionSpec {
  /** The name without dashes, e.g. `batch-size`. */
  readonly name: string;
  /** Placeholder of the value in the help text (`N`, `DIR`); absent for a flag. */
  readonly value?: string;
  /** One line saying what it does. */
  readonly description: string;
  /** The default as the help text shows it (may depend on dataset or method). */
  readonly defaultText?: string;
}

/** The options given on a command line: value text, or `true` for a flag. */
export type OptionValues = ReadonlyMap<string, string | true>;

const unknownOption = (raw: string, specs: readonly OptionSpec[]): CliError => {
  const names = specs.map((s) => `--${s.name}`);
  const guess = closest(raw.startsWith("--") ? raw : `--${raw.replace(/^-+/, "")}`, names);
  return optionError(raw, `unknown option${guess ? `; did you mean ${guess}?` : ""}`);
};

/**
 * Reads the command line against the table. The last of repeated options
 * wins, so a script can append overrides to a base command line.
 */
export function readOptions(
  argv: readonly string[],
  specs: readonly OptionSpec[],
): Result.Result<OptionValues, CliError> {
  const options = Object.fromEntries(
    specs.map((s) => [s.name, { type: s.value === undefined ? "boolean" : "string" } as const]),
  );
  const { tokens } = parseArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values = new Map<string, string | true>();
  let previousFlag: string | undefined;
  for (const token of tokens) {
    if (token.kind === "option-terminator") {
      return Result.fail(
        new CliError({ reason: "unexpected `--`: this command takes options only" }),
      );
    }
    if (token.kind === "positional") {
      const hint = previousFlag ? ` (${previousFlag} takes no value)` : "";
      return Result.fail(
        new CliError({ reason: `unexpected argument '${token.value}'${hint}` }),
      );
    }
    const spec = byName.get(token.name);
    if (!spec || !token.rawName.startsWith("--")) {
      return Result.fail(unknownOption(token.rawName, specs));
    }
    if (spec.value === undefined) {
      if (token.inlineValue) return Result.fail(optionError(token.rawName, "takes no value"));
      values.set(spec.name, true);
      previousFlag = token.rawName;
      continue;
    }
    // Without strict parsing, `--out --seed` would take `--seed` as the path.
    const value = token.value;
    if (value === undefined || (!token.inlineValue && value.startsWith("--"))) {
      return Result.fail(optionError(token.rawName, `needs a value (${spec.value})`));
    }
    values.set(spec.name, value);
    previousFlag = undefined;
  }
  return Result.succeed(values);
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

/** A bound a numeric option must respect, with the words the error uses. */
export interface NumberCheck {
  readonly integer?: boolean;
  readonly min?: number;
  /** `min` itself is not allowed (e.g. a learning rate must be > 0). */
  readonly minExclusive?: boolean;
  readonly max?: number;
  readonly maxExclusive?: boolean;
}

const describeRange = (check: NumberCheck): string => {
  const low = check.min === undefined ? "" : `${check.minExclusive ? ">" : ">="} ${check.min}`;
  const high = check.max === undefined ? "" : `${check.maxExclusive ? "<" : "<="} ${check.max}`;
  if (low && high) {
    return check.minExclusive || check.maxExclusive
      ? `${low} and ${high}`
      : `in [${check.min}, ${check.max}]`;
  }
  return low || high;
};

/** Parses a decimal number (no hex, no `Infinity`) and checks its range. */
export function parseNumber(
  option: string,
  text: string,
  check: NumberCheck = {},
): Result.Result<number, CliError> {
  const kind = check.integer ? "an integer" : "a number";
  if (!(check.integer ? INTEGER : DECIMAL).test(text.trim())) {
    return Result.fail(optionError(option, `expected ${kind}, got '${text}'`));
  }
  const value = Number(text);
  const tooLow = check.min !== undefined &&
    (check.minExclusive ? value <= check.min : value < check.min);
  const tooHigh = check.max !== undefined &&
    (check.maxExclusive ? value >= check.max : value > check.max);
  if (tooLow || tooHigh || !Number.isFinite(value)) {
    return Result.fail(optionError(option, `must be ${describeRange(check)}, got ${text}`));
  }
  return Result.succeed(value);
}

/** Checks that a value is one of a fixed list, suggesting the closest otherwise. */
export function parseChoice<const T extends string>(
  option: string,
  text: string,
  choices: readonly T[],
): Result.Result<T, CliError> {
  if ((choices as readonly string[]).includes(text)) return Result.succeed(text as T);
  const guess = closest(text, choices);
  return Result.fail(
    optionError(
      option,
      `unknown value '${text}'; expected one of ${choices.join(", ")}` +
        (guess ? ` (did you mean ${guess}?)` : ""),
    ),
  );
}

/** Typed access to read options, falling back to defaults. */
export class OptionReader {
  constructor(readonly values: OptionValues) {}

  /** Whether the option was given at all. */
  has(name: string): boolean {
    return this.values.has(name);
  }

  /** A flag: true when given. */
  flag(name: string): boolean {
    return this.values.get(name) === true;
  }

  /** The text of a valued option, or `fallback`. */
  text(name: string, fallback: string): string;
  text(name: string): string | undefined;
  text(name: string, fallback?: string): string | undefined {
    const value = this.values.get(name);
    return typeof value === "string" ? value : fallback;
  }

  /** A numeric option, or `fallback` when absent (the fallback is not checked). */
  number(name: string, fallback: number, check: NumberCheck = {}): Result.Result<number, CliError> {
    const value = this.values.get(name);
    return typeof value === "string"
      ? parseNumber(`--${name}`, value, check)
      : Result.succeed(fallback);
  }

  /** A choice option, or `fallback` when absent. */
  choice<const T extends string>(
    name: string,
    fallback: T,
    choices: readonly T[],
  ): Result.Result<T, CliError> {
    const value = this.values.get(name);
    return typeof value === "string"
      ? parseChoice(`--${name}`, value, choices)
      : Result.succeed(fallback);
  }
}
