import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { COMMAND_NAMES, COMMAND_OPTIONS, helpText } from "../../src/cli/help.ts";

/** The options the command must accept (the CLI's specification). */
const REQUIRED_TRAIN_OPTIONS = (
  "dataset data-root task overlap disjoint method backbone output-stride pretrained epochs " +
  "epochs-next batch-size crop scale-min scale-max lr lr-next momentum no-nesterov weight-decay head-lr-mult " +
  "freeze-bn-next seed out eval-split strips kd-weight feature-weight pod-factor pod-logits-factor pod-new-logits no-sgc no-ssrd " +
  "no-ppr ppr-tau ppr-quantile proto-min-pixels sgc-min sgc-max sgc-split lambda-soft " +
  "lambda-entropy lambda-relation resume"
).split(" ");

Deno.test("train help lists every required option with its default", () => {
  const text = helpText("train");
  const lines = text.split("\n");
  for (const name of REQUIRED_TRAIN_OPTIONS) {
    const line = lines.find((l) =>
      l.trimStart().startsWith(`--${name} `) || l.trim() === `--${name}`
    );
    assert(line, `--${name} missing from the train help`);
    assert(line.includes("(default: "), `--${name} shows no default: ${line}`);
  }
  assert(text.includes("synth 12, voc 30, ade 60, cityscapes 50"), "per-dataset epochs");
  assert(text.includes("mib 10 (100 on 15-1)"), "per-method kd weight");
});

Deno.test("each command's help shows each of its options, and the top help each command", () => {
  for (const command of COMMAND_NAMES) {
    const text = helpText(command);
    assert(text.startsWith(`gsc ${command}: `));
    for (const spec of COMMAND_OPTIONS[command]) {
      assert(text.includes(`--${spec.name}`), `${command}: --${spec.name}`);
      if (spec.defaultText !== undefined) {
        assert(
          text.includes(`(default: ${spec.defaultText})`),
          `${command}: --${spec.name} default`,
        );
      }
    }
  }
  const top = helpText("top");
  for (const command of COMMAND_NAMES) assert(top.includes(`\n  ${command} `), command);
  assertEquals(top.split("\n")[2], "Usage: gsc <command> [options]");
});
