/**
 * The run directory's lock: taken and released with its scope, refused
 * while a live process (this test's own) or another host holds it, with the
 * owner named, and taken over from a process that is gone.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Effect, Result } from "effect";
import {
  acquireRunLock,
  type LockOwner,
  lockPath,
  processExists,
  RunLockError,
} from "../../src/incremental/run_lock.ts";

const me: LockOwner = {
  pid: Deno.pid,
  hostname: Deno.hostname(),
  started: "2025-01-02T03:04:05.000Z",
  command: "gsc train --out x",
};

/** Takes the lock of `out` as `owner`, runs `inside` while holding it, releases it. */
const withLock = (out: string, owner: LockOwner, inside: () => void = () => {}) => {
  const stale: LockOwner[] = [];
  const effect = Effect.scoped(
    acquireRunLock(out, owner, (s) => stale.push(s)).pipe(Effect.tap(() => Effect.sync(inside))),
  );
  return Effect.runPromise(Effect.result(effect)).then((result) => ({ result, stale }));
};

const lockError = (result: Result.Result<unknown, RunLockError>): RunLockError => {
  if (Result.isSuccess(result)) throw new Error("expected the lock to be refused");
  assert(result.failure instanceof RunLockError);
  return result.failure;
};

/** The pid of a process that has exited (and been reaped). */
const deadPid = async () => {
  const child = new Deno.Command(Deno.execPath(), { args: ["--version"], stdout: "null" }).spawn();
  await child.status;
  return child.pid;
};

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

Deno.test("the lock holds its owner while the scope lasts and is removed after", async () => {
  const out = await Deno.makeTempDir({ prefix: "gsc-lock-" });
  try {
    let inside: unknown;
    const { result } = await withLock(out, me, () => {
      inside = JSON.parse(Deno.readTextFileSync(lockPath(out)));
    });
    assert(Result.isSuccess(result));
    assertEquals(inside, me);
    assertEquals(await exists(lockPath(out)), false);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("a directory locked by a live process is refused, naming the owner", async () => {
  const out = await Deno.makeTempDir({ prefix: "gsc-lock-" });
  try {
    const held = JSON.stringify(me);
    await Deno.writeTextFile(lockPath(out), held);
    const { result } = await withLock(out, { ...me, started: new Date().toISOString() });
    const e = lockError(result);
    assert(e.message.includes(`pid ${Deno.pid} on ${me.hostname}`), e.message);
    assert(e.message.includes(me.started) && e.message.includes(me.command!), e.message);
    assert(e.message.includes(lockPath(out)), e.message);
    // The refused run leaves the owner's lock alone.
    assertEquals(await Deno.readTextFile(lockPath(out)), held);

    // Another host's lock cannot be checked, so it is never taken over.
    await Deno.writeTextFile(lockPath(out), JSON.stringify({ ...me, hostname: "elsewhere" }));
    const other = lockError((await withLock(out, me)).result);
    assert(other.message.includes("on elsewhere") && other.message.includes("another host"));

    await Deno.writeTextFile(lockPath(out), "{garbage");
    assert(lockError((await withLock(out, me)).result).message.includes("cannot be read"));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("a lock left by a process that is gone is taken over with a note", async () => {
  const out = await Deno.makeTempDir({ prefix: "gsc-lock-" });
  try {
    const pid = await deadPid();
    assertEquals(processExists(pid), false);
    assertEquals(processExists(Deno.pid), true);
    const stale = { ...me, pid };
    await Deno.writeTextFile(lockPath(out), JSON.stringify(stale));
    let inside: unknown;
    const { result, stale: notes } = await withLock(out, me, () => {
      inside = JSON.parse(Deno.readTextFileSync(lockPath(out)));
    });
    assert(Result.isSuccess(result));
    assertEquals(notes, [stale]);
    assertEquals(inside, me);
    assertEquals(await exists(lockPath(out)), false);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
