/**
 * A run killed mid-step with SIGKILL (a real process) and resumed with
 * `--resume` ends with exactly the metrics of an uninterrupted run: the
 * per-epoch checkpoint holds the weights, BN statistics, optimizer
 * momentum, schedule position and method state, and the data order is a
 * function of (seed, step, epoch). The wait for the checkpoint to kill at
 * fails, rather than polling on, when the run exits first or takes too long.
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { Effect } from "effect";
import { writeSyntheticVoc } from "../../src/data/mod.ts";
import { pollWhileRunning, runDeno, tinyTrainArgs } from "../support/train_cli.ts";

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

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

Deno.test("a run killed with SIGKILL mid-step and resumed equals an uninterrupted run", async () => {
  const root = await Deno.makeTempDir({ prefix: "gsc-resume-" });
  let child: Deno.ChildProcess | undefined;
  let ended = false;
  try {
    const data = `${root}/data`;
    await Effect.runPromise(
      writeSyntheticVoc({ root: data, size: 32, counts: { train: 40, val: 4, test: 12 }, seed: 5 }),
    );
    await run(trainArgs(data, `${root}/straight`));

    const killedOut = `${root}/killed`;
    child = new Deno.Command(Deno.execPath(), {
      args: trainArgs(data, killedOut),
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const status = child.status.then((s) => (ended = true, s));
    const stderr = new Response(child.stderr).text();
    // Kill as soon as the first epoch checkpoint of step 0 lands.
    await pollWhileRunning(
      child,
      () => exists(`${killedOut}/checkpoints/last.safetensors`),
      "the first epoch checkpoint",
      { stderr },
    );
    child.kill("SIGKILL");
    assertEquals((await status).signal, "SIGKILL");
    await stderr;
    const stepsDone = await exists(`${killedOut}/step-1.json`);
    assertEquals(stepsDone, false, "the kill must land before the run finished");

    await run([...trainArgs(data, killedOut), "--resume"]);
    assertEquals(await finalMetrics(killedOut), await finalMetrics(`${root}/straight`));
  } finally {
    if (child && !ended) {
      child.kill("SIGKILL");
      await child.status;
    }
    await Deno.remove(root, { recursive: true });
  }
});

/** A `deno eval` child (stdout and stderr piped away from the test's output). */
const evalChild = (code: string) =>
  new Deno.Command(Deno.execPath(), { args: ["eval", code], stdout: "null", stderr: "piped" })
    .spawn();

Deno.test("the checkpoint poll fails at once when the run exits first, naming how", async () => {
  const child = evalChild("console.error('bad data'); Deno.exit(3)");
  const stderr = new Response(child.stderr).text();
  const started = performance.now();
  await rejects(
    pollWhileRunning(child, () => Promise.resolve(false), "the first epoch checkpoint", {
      timeoutMs: 60_000,
      stderr,
    }),
    (e: Error) => {
      assert(
        e.message.startsWith("the child ended (exit code 3) before the first epoch"),
        e.message,
      );
      assert(e.message.includes("bad data"), e.message);
      return true;
    },
  );
  assert(performance.now() - started < 30_000, "it must not wait for the deadline");
});

Deno.test("the checkpoint poll kills a run that takes past its deadline", async () => {
  const child = evalChild("await new Promise((r) => setTimeout(r, 120_000))");
  const stderr = new Response(child.stderr).text();
  await rejects(
    pollWhileRunning(child, () => Promise.resolve(false), "checkpoint", {
      timeoutMs: 300,
      stderr,
    }),
    /no checkpoint within 0.3 s; the child was killed/,
  );
  assertEquals((await child.status).signal, "SIGKILL");
});

Deno.test("the checkpoint poll returns once the file is there, the run still going", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gsc-poll-" });
  try {
    const file = `${dir}/last`;
    const child = evalChild(
      `Deno.writeTextFileSync(${JSON.stringify(file)}, "x"); ` +
        "await new Promise((r) => setTimeout(r, 120_000))",
    );
    const stderr = new Response(child.stderr).text();
    await pollWhileRunning(child, () => exists(file), "the file", { timeoutMs: 60_000 });
    child.kill("SIGKILL");
    assertEquals((await child.status).signal, "SIGKILL");
    await stderr;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
