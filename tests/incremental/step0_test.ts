/**
 * `--step0`: a run that loads another run's finished step 0 instead of
 * training it ends with exactly the metrics of the run that trained it (the
 * data order of later steps depends only on seed and step, and the method's
 * end-of-step pass runs on the loaded model), and a checkpoint of another
 * task is refused with a message that names the file and what differs, unless
 * the tasks begin with the same step (15-5 and 15-1).
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Effect } from "effect";
import { writeSyntheticVoc } from "../../src/data/mod.ts";
import { runDeno, tinyTrainArgs } from "../support/train_cli.ts";

const trainArgs = (data: string, out: string, task: string) =>
  tinyTrainArgs({ data, out, task, seed: 4, epochs: 2, epochsNext: 1, strips: 0 });

const summary = async (out: string) => JSON.parse(await Deno.readTextFile(`${out}/summary.json`));

Deno.test("a run from another run's step 0 equals that run; another first step is refused", async () => {
  const root = await Deno.makeTempDir({ prefix: "gsc-step0-" });
  try {
    const data = `${root}/data`;
    await Effect.runPromise(
      writeSyntheticVoc({ root: data, size: 32, counts: { train: 40, val: 4, test: 12 }, seed: 6 }),
    );
    const trained = await runDeno(trainArgs(data, `${root}/trained`, "19-1"));
    assert(trained.success, trained.stderr);
    const base = `${root}/trained/checkpoints/step-0.safetensors`;

    const shared = await runDeno([...trainArgs(data, `${root}/shared`, "19-1"), "--step0", base]);
    assert(shared.success, shared.stderr);
    const [a, b] = [await summary(`${root}/trained`), await summary(`${root}/shared`)];
    assertEquals(b.complete, true);
    assertEquals(b.steps, a.steps);
    assertEquals(b.final, a.final);
    const config = JSON.parse(await Deno.readTextFile(`${root}/shared/config.json`));
    assertEquals(config.step0, base);

    const refused = await runDeno([...trainArgs(data, `${root}/other`, "15-5"), "--step0", base]);
    assertEquals(refused.success, false);
    assert(refused.stderr.includes(base), refused.stderr);
    assert(/different first step \(task 19-1, here 15-5\)/.test(refused.stderr), refused.stderr);

    // 15-5 and 15-1 begin with the same step (classes 0..15): they share it.
    const five = await runDeno(trainArgs(data, `${root}/five`, "15-5"));
    assert(five.success, five.stderr);
    const fiveBase = `${root}/five/checkpoints/step-0.safetensors`;
    const one = await runDeno([
      ...trainArgs(data, `${root}/one`, "15-1"),
      ...["--step0", fiveBase, "--batch-size", "2"],
    ]);
    assert(one.success, one.stderr);
    assertEquals((await summary(`${root}/one`)).steps[0], (await summary(`${root}/five`)).steps[0]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
