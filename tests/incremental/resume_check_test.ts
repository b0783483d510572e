/**
 * What `--resume` compares: every setting but the output-only ones, each
 * difference named by its command-line option with both values; and the
 * divergence guard's messages.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Effect, Result } from "effect";
import { parseTrainOptions } from "../../src/cli/train_options.ts";
import { TRAIN_OPTIONS } from "../../src/cli/train_spec.ts";
import {
  CONFIG_OPTIONS,
  configDifferences,
  configLeaves,
  RESUME_IGNORED,
} from "../../src/incremental/resume_check.ts";
import { checkLoss, DivergenceError, guardWrite } from "../../src/incremental/divergence.ts";
import { CheckpointError } from "../../src/nn/checkpoint.ts";
import type { RunConfig } from "../../src/incremental/types.ts";

const parse = (...argv: string[]): RunConfig => {
  const result = parseTrainOptions(["--method", "gsc", ...argv]);
  if (Result.isFailure(result)) throw new Error(result.failure.message);
  return result.success.config;
};

Deno.test("every setting has a command-line name or is deliberately not compared", () => {
  const names = new Set(TRAIN_OPTIONS.map((o) => `--${o.name}`));
  for (const path of configLeaves(parse()).keys()) {
    const mapped = CONFIG_OPTIONS[path];
    assert(mapped !== undefined, `${path} has no entry in CONFIG_OPTIONS`);
    for (const option of mapped.option.split("/")) {
      assert(names.has(option), `${path}: ${option} is not an option of gsc train`);
    }
  }
  for (const path of RESUME_IGNORED) assert(path in CONFIG_OPTIONS, path);
});

Deno.test("a changed setting is named with both values; output-only ones are ignored", () => {
  const saved = parse("--batch-size", "2", "--out", "/runs/a");
  assertEquals(configDifferences(saved, saved), []);
  assertEquals(configDifferences(saved, parse("--batch-size", "2", "--strips", "9")), []);
  assertEquals(configDifferences(saved, parse("--batch-size", "4")), [
    "--batch-size: 2 (checkpoint) vs 4 (now)",
  ]);
  assertEquals(
    configDifferences(
      saved,
      parse("--batch-size", "2", "--lr-next", "0.5", "--no-nesterov", "--lambda-soft", "3"),
    ),
    [
      `--lr-next: ${saved.lrNext} (checkpoint) vs 0.5 (now)`,
      "--no-nesterov: off (checkpoint) vs on (now)",
      `--lambda-soft: ${saved.gsc.lambdaSoft} (checkpoint) vs 3 (now)`,
    ],
  );
  assertEquals(configDifferences(saved, parse("--batch-size", "2", "--disjoint")), [
    "--overlap/--disjoint: overlap (checkpoint) vs disjoint (now)",
  ]);
  // A checkpoint from before --train-split trained on the default split.
  const { trainSplit: __, ...beforeSplits } = saved;
  assertEquals(configDifferences(beforeSplits as RunConfig, saved), []);
  assertEquals(configDifferences(beforeSplits as RunConfig, { ...saved, trainSplit: "val" }), [
    "--train-split: train (checkpoint) vs val (now)",
  ]);
  // A checkpoint from before --lambda-relation ran without the relation term.
  const { lambdaRelation: ___, ...gscBefore } = saved.gsc;
  const beforeRelation = { ...saved, gsc: gscBefore } as RunConfig;
  assertEquals(configDifferences(beforeRelation, saved), []);
  assertEquals(
    configDifferences(beforeRelation, parse("--batch-size", "2", "--lambda-relation", "0.5")),
    ["--lambda-relation: 0 (checkpoint) vs 0.5 (now)"],
  );
  // A checkpoint from before --pod-logits-factor and --pod-new-logits used PLOP's 0.0005 and sum.
  assertEquals([saved.podLogitsFactor, saved.podNewLogits], [0.0005, "sum"]);
  for (
    const [field, option, value, was] of [
      ["podLogitsFactor", "--pod-logits-factor", "0", "0.0005"],
      ["podNewLogits", "--pod-new-logits", "trim", "sum"],
    ] as const
  ) {
    const { [field]: _omitted, ...before } = saved;
    assertEquals(configDifferences(before as RunConfig, saved), []);
    assertEquals(
      configDifferences(before as RunConfig, parse("--batch-size", "2", option, value)),
      [`${option}: ${was} (checkpoint) vs ${value} (now)`],
    );
  }
  // A setting the checkpoint lacks is a difference too.
  const { seed: _, ...older } = saved;
  assertEquals(configDifferences(older as RunConfig, saved), [
    "--seed: none (checkpoint) vs 0 (now)",
  ]);
});

Deno.test("paths are compared as the files they name", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gsc-resume-check-" });
  try {
    const saved = parse("--data-root", dir);
    assertEquals(configDifferences(saved, parse("--data-root", `${dir}/./`)), []);
    assertEquals(configDifferences(saved, parse("--data-root", `${dir}/other`)), [
      `--data-root: ${dir} (checkpoint) vs ${dir}/other (now)`,
    ]);
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test("the divergence guard names step, epoch, batch and the value", async () => {
  const place = { step: 1, epoch: 0, epochs: 2, batch: 4, batches: 7 };
  const error = async (effect: Effect.Effect<unknown, unknown>) => {
    const result = await Effect.runPromise(Effect.result(effect));
    if (Result.isSuccess(result)) throw new Error("expected a failure");
    return result.failure;
  };
  assertEquals(await Effect.runPromise(checkLoss(0.5, place, "/r/checkpoints")), undefined);
  const e = await error(checkLoss(NaN, place, "/r/checkpoints"));
  assert(e instanceof DivergenceError);
  assert(
    e.message.startsWith("training diverged at step 1, epoch 1/2, batch 5/7: the loss is NaN."),
    e.message,
  );
  assert(e.message.includes("--lr-next") && e.message.includes("/r/checkpoints/step-0"));
  const inf = await error(checkLoss(-Infinity, { step: 0 }, "/r/checkpoints"));
  assert(String((inf as Error).message).includes("step 0: the loss is -Infinity"));

  const refused = new CheckpointError({
    file: "/r/checkpoints/last.safetensors",
    problem: "non-finite",
    tensor: "backbone.conv1.weight",
    detail: "element 3 is NaN; a checkpoint with NaN or infinite values is not written",
  });
  const mapped = await error(guardWrite(Effect.fail(refused), place, "/r/checkpoints"));
  assert(mapped instanceof DivergenceError);
  assert(
    mapped.message.includes(
      "tensor backbone.conv1.weight is not finite (element 3 is NaN), so " +
        "/r/checkpoints/last.safetensors was not written",
    ),
    mapped.message,
  );
  // Other checkpoint failures pass through unchanged.
  const io = new CheckpointError({ file: "f", problem: "io", detail: "disk full" });
  assertEquals(await error(guardWrite(Effect.fail(io), place, "/r/checkpoints")), io);
});
