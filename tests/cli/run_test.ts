import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Effect, Exit } from "effect";
import { helpText } from "../../src/cli/help.ts";
import { parseEvalOptions } from "../../src/cli/eval_options.ts";
import { type CliCommands, runCli } from "../../src/cli/run.ts";
import { parseSynthOptions } from "../../src/cli/synth.ts";
import type { TrainCommand } from "../../src/cli/train_options.ts";
import type { EvalCommand } from "../../src/cli/eval_options.ts";
import { failure, ok, tempDir } from "./support.ts";
import { SYNTHETIC_DEFAULT_COUNTS } from "../../src/data/mod.ts";

/** Runs the CLI with bodies that record what they received. */
const run = async (...argv: string[]) => {
  const printed: string[] = [];
  const calls: { train?: TrainCommand; eval?: EvalCommand } = {};
  const commands: CliCommands<never, never> = {
    train: (command) => Effect.sync(() => (calls.train = command)),
    eval: (command) => Effect.sync(() => (calls.eval = command)),
    print: (text) => printed.push(text),
  };
  const exit = await Effect.runPromiseExit(runCli(argv, commands));
  const error = Exit.isFailure(exit) ? String(exit.cause) : undefined;
  return { printed, calls, error };
};

Deno.test("help: no command, --help, help <command>, <command> --help", async () => {
  assertEquals((await run()).printed, [helpText("top")]);
  assertEquals((await run("--help")).printed, [helpText("top")]);
  assertEquals((await run("-h")).printed, [helpText("top")]);
  assertEquals((await run("help", "train")).printed, [helpText("train")]);
  assertEquals((await run("eval", "--help")).printed, [helpText("eval")]);
  // --help wins over options that would not parse.
  assertEquals((await run("train", "--bogus", "-h")).printed, [helpText("train")]);
});

Deno.test("an unknown command fails with a suggestion", async () => {
  const { error, calls } = await run("trian", "--epochs", "2");
  assert(error?.includes("unknown command 'trian'; did you mean train?"), error);
  assertEquals(calls, {});
  assert((await run("help", "bogus")).error?.includes("unknown command 'bogus'"));
});

Deno.test("train gets the parsed command; a bad option fails before it runs", async () => {
  const { calls } = await run("train", "--method", "mib", "--epochs", "2", "--resume");
  assertEquals(calls.train?.config.method, "mib");
  assertEquals(calls.train?.config.epochs, 2);
  assertEquals(calls.train?.resume, true);
  const bad = await run("train", "--epochs", "0");
  assert(bad.error?.includes("--epochs: must be >= 1, got 0"), bad.error);
  assertEquals(bad.calls, {});
});

Deno.test("eval needs a run directory holding config.json", async () => {
  assertEquals(
    failure(parseEvalOptions([])),
    "--run: required: the run directory written by gsc train",
  );
  assertEquals(
    failure(parseEvalOptions(["--run", "/nonexistent/run"])),
    "--run: directory '/nonexistent/run' not found",
  );
  const dir = tempDir();
  try {
    assertEquals(
      failure(parseEvalOptions(["--run", dir.path])),
      `--run: '${dir.path}' has no config.json: not a run directory of gsc train`,
    );
    Deno.writeTextFileSync(`${dir.path}/config.json`, "{}");
    assertEquals(ok(parseEvalOptions(["--run", dir.path])), {
      run: dir.path,
      strips: 0,
      confusion: 0,
      adapter: "auto",
    });
    assertEquals(
      ok(parseEvalOptions([
        "--run",
        dir.path,
        "--step",
        "2",
        "--split",
        "val",
        "--strips",
        "3",
        "--confusion",
        "2",
      ])),
      { run: dir.path, step: 2, split: "val", strips: 3, confusion: 2, adapter: "auto" },
    );
    assertEquals(
      failure(parseEvalOptions(["--run", dir.path, "--step", "-1"])),
      "--step: must be >= 0, got -1",
    );
    assertEquals(
      failure(parseEvalOptions(["--run", dir.path, "--confusion", "1.5"])),
      "--confusion: expected an integer, got '1.5'",
    );
    assertEquals(
      failure(parseEvalOptions(["--run", dir.path, "--data-root", "/nonexistent"])),
      "--data-root: directory '/nonexistent' not found",
    );
    const { calls } = await run("eval", "--run", dir.path);
    assertEquals(calls.eval, { run: dir.path, strips: 0, confusion: 0, adapter: "auto" });
  } finally {
    dir.remove();
  }
});

Deno.test("synth options: defaults, values and bounds", () => {
  assertEquals(ok(parseSynthOptions([])), {
    root: "data/synthetic-voc",
    seed: 0,
    size: 64,
    counts: { ...SYNTHETIC_DEFAULT_COUNTS },
  });
  assertEquals(
    ok(
      parseSynthOptions([
        "--out",
        "d",
        "--train",
        "5",
        "--val",
        "0",
        "--test",
        "2",
        "--size",
        "32",
        "--seed",
        "9",
      ]),
    ),
    { root: "d", seed: 9, size: 32, counts: { train: 5, val: 0, test: 2 } },
  );
  assertEquals(failure(parseSynthOptions(["--size", "8"])), "--size: must be in [16, 1024], got 8");
  assertEquals(failure(parseSynthOptions(["--train", "0"])), "--train: must be >= 1, got 0");
  assertEquals(
    failure(parseSynthOptions(["--tset", "1"])),
    "--tset: unknown option; did you mean --test?",
  );
});

Deno.test("synth writes the dataset and prints its summary", async () => {
  const dir = tempDir();
  try {
    const root = `${dir.path}/synth`;
    const { printed, error } = await run(
      "synth",
      ...[
        "--out",
        root,
        "--train",
        "3",
        "--val",
        "1",
        "--test",
        "1",
        "--size",
        "16",
        "--seed",
        "1",
      ],
    );
    assertEquals(error, undefined);
    assert(
      printed[0].startsWith(`wrote ${root}: 3 train, 1 val, 1 test images of 16x16 (seed 1) in `),
    );
    assertEquals(printed[0].split("\n").length, 2 + 21);
    const list = Deno.readTextFileSync(`${root}/ImageSets/Segmentation/train.txt`).trim().split(
      "\n",
    );
    assertEquals(list.length, 3);
  } finally {
    dir.remove();
  }
});
