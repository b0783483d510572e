/**
 * A run killed mid-step with SIGKILL (a real process) and resumed with
 * `--resume` ends with exactly the metrics of an uninterrupted run: the
 * per-epoch checkpoint holds the weights, BN statistics, optimizer
 * momentum, schedule position and method state, and the data order is a
 * function of (seed, step, epoch).
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Effect } from "effect";
import { writeSyntheticVoc } from "../../src/data/index.ts";
import { runDeno, tinyTrainArgs } from "../support/train_cli.ts";

const trainArgs = (data: string, out: string) =>
  tinyTrainArgs({ data, out, task: "19-1", seed: 3, epochs: 3, epochsNext: 2, strips: 1 });

const run = async (args: string[]) => {
  const result = await runDeno(args);
  if (!result.success) throw new Error(`gsc train failed:\n${result.stderr}`);
};

const finalMetrics = async (out: string) => {
  const summary = JSON.parse(await Deno.readTextFile(`${out}/summary.json`));
  return summary.final;
};

Deno.test("a run killed with SIGKILL mid-step and resumed equals an uninterrupted run", async () => {
  const root = await Deno.makeTempDir({ prefix: "gsc-resume-" });
  try {
    const data = `${root}/data`;
    await Effect.runPromise(
      writeSyntheticVoc({ root: data, size: 32, counts: { train: 40, val: 4, test: 12 }, seed: 5 }),
    );
    await run(trainArgs(data, `${root}/straight`));

    const killedOut = `${root}/killed`;
    const child = new Deno.Command(Deno.execPath(), {
      args: trainArgs(data, killedOut),
      stdout: "null",
      stderr: "null",
    }).spawn();
    // Kill as soon as the first epoch checkpoint of step 0 lands.
    const last = `${killedOut}/checkpoints/last.safetensors`;
    while (!(await Deno.stat(last).then(() => true, () => false))) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill("SIGKILL");
    const status = await child.status;
    assertEquals(status.signal, "SIGKILL");
    const stepsDone = await Deno.stat(`${killedOut}/step-1.json`).then(() => true, () => false);
    assertEquals(stepsDone, false, "the kill must land before the run finished");

    await run([...trainArgs(data, killedOut), "--resume"]);
    assertEquals(await finalMetrics(killedOut), await finalMetrics(`${root}/straight`));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
