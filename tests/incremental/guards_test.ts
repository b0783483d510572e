/**
 * The run guards on real `gsc train` processes (FT on a tiny synthetic 15-5
 * task, batch 2, step 1 at a learning rate of 1e12): the run stops with exit
 * code 1 when its loss turns NaN, naming where, and its step-0 and last
 * checkpoints stay byte for byte (a resumed run, which takes the dead run's
 * lock over, diverges at the same batch and leaves them alone too);
 * `--resume` with another `--batch-size` is refused naming it; `--resume`
 * without a run is refused; a directory locked by a live process is refused
 * naming it.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Effect } from "effect";
import { writeSyntheticVoc } from "../../src/data/mod.ts";
import { runDeno, tinyTrainArgs } from "../support/train_cli.ts";

const root = await Deno.makeTempDir({ prefix: "gsc-guards-" });
globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
const data = `${root}/data`;
await Effect.runPromise(
  writeSyntheticVoc({ root: data, size: 32, counts: { train: 24, val: 2, test: 4 }, seed: 5 }),
);

const args = (out: string, batchSize = 2, lrNext = "1e12") => [
  ...tinyTrainArgs({
    data,
    out,
    task: "15-5",
    seed: 1,
    epochs: 1,
    epochsNext: 1,
    strips: 0,
    method: "ft",
    batchSize,
  }),
  "--lr-next",
  lrNext,
];

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);
const checkpointBytes = async (out: string) => ({
  step0: await Deno.readFile(`${out}/checkpoints/step-0.safetensors`),
  last: await Deno.readFile(`${out}/checkpoints/last.safetensors`),
});
const DIVERGED = /training diverged at step 1, epoch 1\/1, batch (\d+)\/7: the loss is NaN\./;

const diverged = `${root}/diverged`;

Deno.test("a diverging run exits 1 naming where, and its checkpoints stay as they were", async (t) => {
  const first = await runDeno(args(diverged));
  assertEquals(first.code, 1, first.stderr);
  const place = DIVERGED.exec(first.stderr);
  assert(place, first.stderr);
  assert(first.stderr.includes(`the last good ones in ${diverged}/checkpoints are untouched`));
  assertEquals(await exists(`${diverged}/checkpoints/step-1.safetensors`), false);
  assertEquals(await exists(`${diverged}/step-1.json`), false);
  assertEquals(await exists(`${diverged}/run.lock`), false, "the lock is released on failure");
  const before = await checkpointBytes(diverged);

  await t.step("resumed, it diverges at the same batch and leaves them alone", async () => {
    // The lock of a run that is gone (a process that has exited) is taken over.
    const child = new Deno.Command(Deno.execPath(), { args: ["--version"], stdout: "null" });
    const dead = child.spawn();
    await dead.status;
    const stale = { pid: dead.pid, hostname: Deno.hostname(), started: "2000-01-01T00:00:00Z" };
    await Deno.writeTextFile(`${diverged}/run.lock`, JSON.stringify(stale));
    const loud = args(diverged).filter((a) => a !== "--quiet");
    const again = await runDeno([...loud, "--resume"]);
    assertEquals(again.code, 1, again.stderr);
    assert(again.stderr.includes(`took over ${diverged}/run.lock`), again.stderr);
    assert(again.stderr.includes(`pid ${dead.pid}`), again.stderr);
    assertEquals(DIVERGED.exec(again.stderr)?.[1], place[1], again.stderr);
    assertEquals(await checkpointBytes(diverged), before);
    assertEquals(await exists(`${diverged}/run.lock`), false);
  });

  await t.step("--resume with another --batch-size is refused, naming it", async () => {
    const changed = await runDeno([...args(diverged, 4), "--resume"]);
    assertEquals(changed.code, 1, changed.stderr);
    assert(changed.stderr.includes("--batch-size: 2 (checkpoint) vs 4 (now)"), changed.stderr);
    assertEquals(await checkpointBytes(diverged), before);
  });
});

Deno.test("--resume on a directory without a run is refused", async () => {
  const none = `${root}/none`;
  const result = await runDeno([...args(none), "--resume"]);
  assertEquals(result.code, 1, result.stderr);
  assert(result.stderr.includes(`${none} holds no run to resume`), result.stderr);
  assert(result.stderr.includes("start the run without --resume"), result.stderr);
  assertEquals(await exists(none), false);
});

Deno.test("a directory locked by a live process is refused, naming it", async () => {
  const locked = `${root}/locked`;
  await Deno.mkdir(locked);
  const owner = JSON.stringify({
    pid: Deno.pid,
    hostname: Deno.hostname(),
    started: "2025-06-01T12:00:00.000Z",
  });
  await Deno.writeTextFile(`${locked}/run.lock`, owner);
  const result = await runDeno(args(locked));
  assertEquals(result.code, 1, result.stderr);
  assert(
    result.stderr.includes(
      `in use by pid ${Deno.pid} on ${Deno.hostname()}, started 2025-06-01T12:00:00.000Z`,
    ),
    result.stderr,
  );
  assertEquals(await Deno.readTextFile(`${locked}/run.lock`), owner);
  assertEquals(await exists(`${locked}/config.json`), false);
});

Deno.test("a --lr 1e6 run stops in step 0 with the divergence message and writes nothing", async () => {
  const out = `${root}/lr1e6`;
  const result = await runDeno([...args(out, 2, "1e6"), "--lr", "1e6"]);
  assertEquals(result.code, 1, result.stderr);
  assert(
    /training diverged at step 0, epoch 1\/1, batch \d+\/\d+: /.test(result.stderr),
    result.stderr,
  );
  assertEquals(await exists(`${out}/checkpoints/last.safetensors`), false);
  assertEquals(await exists(`${out}/checkpoints/step-0.safetensors`), false);
  assertEquals(await exists(`${out}/step-0.json`), false);
  assert(!result.stderr.includes("mIoU"), result.stderr);
});
