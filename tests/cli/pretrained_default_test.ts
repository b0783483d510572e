/**
 * `--pretrained` defaults: the synthetic set's `small` model starts from the
 * shipped backbone; `none`, `--step0` and another backbone start elsewhere;
 * a missing shipped file names the command that remakes it.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Result } from "effect";
import { DATASET_DEFAULTS, SYNTHETIC_PRETRAINED } from "../../src/cli/defaults.ts";
import { parseTrainOptions, readPretrained } from "../../src/cli/train_options.ts";
import { OptionReader, readOptions } from "../../src/cli/spec.ts";
import { TRAIN_OPTIONS } from "../../src/cli/train_spec.ts";
import { failure, ok, tempDir } from "./support.ts";

const train = (...argv: string[]) => ok(parseTrainOptions(argv));

Deno.test("synth: step 0 starts from the shipped backbone unless told otherwise", () => {
  assertEquals(DATASET_DEFAULTS.synth.pretrained, SYNTHETIC_PRETRAINED);
  assert(Deno.statSync(SYNTHETIC_PRETRAINED).isFile, "the shipped backbone is in the repository");
  assertEquals(train().config.pretrained, SYNTHETIC_PRETRAINED);
  assertEquals(train("--pretrained", "none").config.pretrained, undefined);
  assertEquals(train("--backbone", "resnet18").config.pretrained, undefined);
  const dir = tempDir();
  try {
    const step0 = `${dir.path}/step-0.safetensors`;
    Deno.writeTextFileSync(step0, "x");
    assertEquals(train("--step0", step0, "--method", "plop").config.pretrained, undefined);
    const other = `${dir.path}/other.safetensors`;
    Deno.writeTextFileSync(other, "x");
    assertEquals(train("--pretrained", other).config.pretrained, other);
    // Explicit weights and a shared step 0 still exclude each other.
    assert(
      failure(parseTrainOptions(["--pretrained", other, "--step0", step0])).includes("--step0"),
    );
  } finally {
    dir.remove();
  }
  for (const dataset of ["voc", "ade", "cityscapes"] as const) {
    assertEquals(DATASET_DEFAULTS[dataset].pretrained, undefined, dataset);
  }
});

Deno.test("a missing shipped backbone names the file and the command that remakes it", () => {
  const read = new OptionReader(Result.getOrThrow(readOptions([], TRAIN_OPTIONS)));
  const defaults = { ...DATASET_DEFAULTS.synth, pretrained: "/nonexistent/shipped.safetensors" };
  const result = readPretrained(read, defaults, "small", undefined);
  assert(Result.isFailure(result));
  const message = result.failure.message;
  assert(message.includes("/nonexistent/shipped.safetensors"), message);
  assert(message.includes("deno task pretrain") && message.includes("--pretrained none"), message);
  assertEquals(
    Result.getOrThrow(readPretrained(read, defaults, "small", "step-0.safetensors")),
    undefined,
  );
});
