/**
 * `--adapter` on `gsc train` and `gsc eval`: parsed into the command, `auto`
 * by default, a wrong kind named with the valid ones.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { parseEvalOptions } from "../../src/cli/eval_options.ts";
import { parseTrainOptions } from "../../src/cli/train_options.ts";
import { failure, ok, tempDir } from "./support.ts";

Deno.test("--adapter: auto by default, gpu and cpu as given, on train and eval", () => {
  assertEquals(ok(parseTrainOptions([])).adapter, "auto");
  assertEquals(ok(parseTrainOptions(["--adapter", "gpu"])).adapter, "gpu");
  assertEquals(ok(parseTrainOptions(["--adapter=cpu"])).adapter, "cpu");
  const run = tempDir();
  try {
    Deno.writeTextFileSync(`${run.path}/config.json`, "{}");
    assertEquals(ok(parseEvalOptions(["--run", run.path])).adapter, "auto");
    assertEquals(ok(parseEvalOptions(["--run", run.path, "--adapter", "cpu"])).adapter, "cpu");
  } finally {
    run.remove();
  }
});

Deno.test("--adapter: an unknown kind names the option, the kinds and the closest", () => {
  const message = failure(parseTrainOptions(["--adapter", "gpus"]));
  assert(message.includes("--adapter"), message);
  assert(message.includes("auto, gpu, cpu"), message);
  assert(message.includes("gpu"), message);
});
