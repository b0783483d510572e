/**
 * One run per directory: `<out>/run.lock` holds its owner (pid, host, start
 * time, command line) as JSON. It is created atomically (`createNew`) when a
 * run starts and removed when the run ends, however it ends; a second run on
 * the directory is refused with the owner's name. A lock left by a process
 * that no longer exists on this host (a killed run) is taken over; a lock of
 * another host cannot be checked from here and is never taken over.
 *
 * Liveness is the existence of `/proc/<pid>` (or, without a `/proc`, a
 * SIGCONT that the process would ignore). A pid reused by an unrelated
 * process keeps the lock held; the refusal says which file to delete then.
 *
 * @module
 */
import { Data, Effect, type Scope } from "effect";

/** Who holds a run directory. */
export interface LockOwner {
  readonly pid: number;
  readonly hostname: string;
  /** ISO 8601 time the run started. */
  readonly started: string;
  readonly command?: string;
}

/** The run directory is held by another run, or its lock cannot be read or created. */
export class RunLockError extends Data.TaggedError("RunLockError")<{
  readonly path: string;
  readonly reason: string;
}> {
  override get message(): string {
    return `${this.path}: ${this.reason}`;
  }
}

/** The lock file of a run directory. */
export const lockPath = (out: string): string => `${out}/run.lock`;

/** `pid 12 on host, started <time> (gsc train ...)`. */
export const describeOwner = (owner: LockOwner): string =>
  `pid ${owner.pid} on ${owner.hostname}, started ${owner.started}` +
  (owner.command === undefined ? "" : ` (${owner.command})`);

let procFs: boolean | undefined;

/** Whether a process with this pid exists on this host. */
export const processExists = (pid: number): boolean => {
  procFs ??= (() => {
    try {
      return Deno.statSync("/proc/self").isDirectory;
    } catch {
      return false;
    }
  })();
  if (procFs) {
    try {
      Deno.statSync(`/proc/${pid}`);
      return true;
    } catch {
      return false;
    }
  }
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch (e) {
    // Only "no such process" means gone; a refusal means someone else's live process.
    return !(e instanceof Deno.errors.NotFound);
  }
};

const isOwner = (value: unknown): value is LockOwner => {
  const o = value as Partial<LockOwner> | null;
  return typeof o === "object" && o !== null && Number.isSafeInteger(o.pid) &&
    typeof o.hostname === "string" && typeof o.started === "string";
};

/** Creates `path` with `text` unless it exists; true when created. */
const createLock = async (path: string, text: string): Promise<boolean> => {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { write: true, createNew: true });
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return false;
    throw e;
  }
  try {
    const bytes = new TextEncoder().encode(text);
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
  } finally {
    file.close();
  }
  return true;
};

const readText = (path: string) => Deno.readTextFile(path).catch(() => undefined);

const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Takes the lock of run directory `out` for the enclosing scope. `onStale`
 * hears of a dead owner's lock that was taken over.
 */
export const acquireRunLock = (
  out: string,
  owner: LockOwner,
  onStale: (stale: LockOwner, path: string) => void = () => {},
): Effect.Effect<void, RunLockError, Scope.Scope> => {
  const path = lockPath(out);
  const text = JSON.stringify(owner) + "\n";
  const fail = (reason: string) => new RunLockError({ path, reason });
  const acquire = async (): Promise<void> => {
    // Two rounds: the second follows a stale lock's removal (or a lock that vanished).
    for (let round = 0; round < 2; round++) {
      if (await createLock(path, text)) return;
      const found = await readText(path);
      if (found === undefined) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(found);
      } catch {
        parsed = undefined;
      }
      if (!isOwner(parsed)) {
        throw fail(
          "the run directory's lock file cannot be read; if no run is using the directory, " +
            `delete ${path}`,
        );
      }
      if (parsed.hostname !== owner.hostname) {
        throw fail(
          `the run directory is in use by ${describeOwner(parsed)}, another host ` +
            `(it cannot be checked from here); choose another --out, or delete ${path} ` +
            "if that run has ended",
        );
      }
      if (processExists(parsed.pid)) {
        throw fail(
          `the run directory is in use by ${describeOwner(parsed)}; wait for it to end or ` +
            `choose another --out (if that process is not a run, delete ${path})`,
        );
      }
      // The owner is gone: remove its lock unless another run replaced it meanwhile.
      if ((await readText(path)) === found) await Deno.remove(path).catch(() => {});
      onStale(parsed, path);
    }
    throw fail("another run took the lock while a stale one was being replaced");
  };
  const release = async () => {
    if ((await readText(path)) === text) await Deno.remove(path).catch(() => {});
  };
  return Effect.acquireRelease(
    Effect.tryPromise({
      try: acquire,
      catch: (
        e,
      ) => (e instanceof RunLockError ? e : fail(`cannot create the lock: ${describe(e)}`)),
    }),
    () => Effect.promise(release),
  );
};
