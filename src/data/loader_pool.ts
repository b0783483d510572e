/**
 * Loader workers: threads that decode, augment and pack batches off the main
 * thread, as PyTorch's DataLoader workers do. The main thread records the GPU
 * work (and on a CPU adapter runs it inside each submit), so a batch built
 * there is time the step waits; a worker builds it meanwhile on another core.
 * Batches are the same bytes either way (`batch_build.ts`: a batch depends
 * only on its plan, epoch and index). A loader given a pool sends each worker
 * its plan once, then asks for batches by (epoch, index), spread over the
 * workers in turn.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import type { Batch, BatchPlan } from "./batch_build.ts";
import type { SampleError } from "./errors.ts";
import { fromWire, type LoaderReply, type LoaderRequest } from "./loader_messages.ts";

/** A batch a worker built, with the samples it left out under `skipBad`. */
export interface BuiltBatch {
  readonly batch: Batch;
  readonly skipped: readonly { readonly name: string; readonly error: SampleError }[];
}

/** A loader known to a pool: its id and the plan a worker gets when it lacks it. */
export interface PooledLoader {
  readonly id: number;
  readonly plan: BatchPlan;
  readonly shuffle: boolean;
}

/** Loader workers shared by every loader of a run. */
export interface LoaderPool {
  /** How many workers build batches. */
  readonly workers: number;
  /** Names a loader's plan for {@link LoaderPool.build}. */
  register(plan: BatchPlan, shuffle: boolean): PooledLoader;
  /** Batch `index` of epoch `epoch` of `loader`, built by a worker. */
  build(loader: PooledLoader, epoch: number, index: number): Promise<BuiltBatch>;
  /** Stops the workers; builds still pending reject. */
  close(): void;
}

/** Plans a worker keeps at most (a run makes a few loaders a step); older ones are forgotten. */
const PLANS_PER_WORKER = 16;

interface Pending {
  readonly resolve: (built: BuiltBatch) => void;
  readonly reject: (error: unknown) => void;
  readonly worker: number;
}

/** Starts `workers` loader workers (at least one). */
export const createLoaderPool = (workers: number): LoaderPool => {
  const count = Math.max(1, Math.floor(workers));
  const url = new URL("./loader_worker.ts", import.meta.url).href;
  const threads = Array.from({ length: count }, () => new Worker(url, { type: "module" }));
  // Per worker, the loaders whose plan it holds, oldest first.
  const held = threads.map((): number[] => []);
  const pending = new Map<number, Pending>();
  let nextLoader = 0;
  let nextRequest = 0;
  let turn = 0;
  let closed = false;

  const failWorker = (worker: number, error: unknown) => {
    for (const [id, p] of pending) {
      if (p.worker !== worker) continue;
      pending.delete(id);
      p.reject(error);
    }
  };
  threads.forEach((thread, worker) => {
    thread.onmessage = (event: MessageEvent<LoaderReply>) => {
      const reply = event.data;
      const p = pending.get(reply.request);
      if (!p) return;
      pending.delete(reply.request);
      const skipped = reply.skipped.map((s) => ({
        name: s.name,
        error: fromWire(s.error) as SampleError,
      }));
      if (reply.batch) p.resolve({ batch: reply.batch, skipped });
      else p.reject(fromWire(reply.error ?? { name: "Error", message: "no batch and no error" }));
    };
    thread.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      failWorker(worker, new Error(`loader worker ${worker} failed: ${event.message}`));
    };
  });

  const send = (worker: number, message: LoaderRequest) => threads[worker].postMessage(message);

  /** Makes sure `worker` holds `loader`'s plan. */
  const ensurePlan = (worker: number, { id, plan, shuffle }: PooledLoader) => {
    const list = held[worker];
    const at = list.indexOf(id);
    if (at >= 0) {
      list.splice(at, 1);
      list.push(id);
      return;
    }
    if (list.length >= PLANS_PER_WORKER) send(worker, { kind: "forget", loader: list.shift()! });
    send(worker, { kind: "plan", loader: id, plan, shuffle });
    list.push(id);
  };

  return {
    workers: count,
    register: (plan, shuffle) => ({ id: nextLoader++, plan, shuffle }),
    build: (loader, epoch, index) => {
      if (closed) return Promise.reject(new Error("the loader pool is closed"));
      const worker = turn;
      turn = (turn + 1) % count;
      ensurePlan(worker, loader);
      const request = nextRequest++;
      return new Promise<BuiltBatch>((resolve, reject) => {
        pending.set(request, { resolve, reject, worker });
        send(worker, { kind: "build", request, loader: loader.id, epoch, index });
      });
    },
    close: () => {
      if (closed) return;
      closed = true;
      for (const thread of threads) thread.terminate();
      for (const worker of threads.keys()) {
        failWorker(worker, new Error("the loader pool is closed"));
      }
    },
  };
};

/** A loader pool of `workers` workers, closed when `scope` closes. */
export const scopedLoaderPool = (
  workers: number,
): Effect.Effect<LoaderPool, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => createLoaderPool(workers)),
    (pool) => Effect.sync(() => pool.close()),
  );

/** Training images below which a run builds its batches in the main thread by default. */
export const POOL_MIN_IMAGES = 256;

/**
 * The workers a run starts: `GSC_LOADER_WORKERS` when set (0: build batches
 * in the main thread); else none for fewer than {@link POOL_MIN_IMAGES}
 * training images (a worker takes about half a second to start, which a
 * short run does not win back), otherwise every core but one (left to the
 * main thread), at least 1 and at most 4.
 */
export const loaderWorkersFor = (trainImages: number): number => {
  let fromEnv: string | undefined;
  try {
    fromEnv = Deno.env.get("GSC_LOADER_WORKERS");
  } catch {
    fromEnv = undefined;
  }
  if (fromEnv !== undefined && /^\d+$/.test(fromEnv)) return Number(fromEnv);
  if (trainImages < POOL_MIN_IMAGES) return 0;
  return Math.max(1, Math.min(4, navigator.hardwareConcurrency - 1));
};
