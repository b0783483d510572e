/**
 * A loader worker: builds the batches the pool asks for (`loader_pool.ts`)
 * with the same code as the main thread (`batch_build.ts`), keeping each
 * loader's plan and its last epoch's order, and sends each batch back with
 * its arrays transferred. Runs as a module worker.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { type BatchPlan, buildPlannedBatch, epochOrder } from "./batch_build.ts";
import { type LoaderReply, type LoaderRequest, toWire } from "./loader_messages.ts";

interface Known {
  readonly plan: BatchPlan;
  readonly shuffle: boolean;
  order?: { readonly epoch: number; readonly indices: number[] };
}

const loaders = new Map<number, Known>();

const orderOf = (known: Known, epoch: number): number[] => {
  if (known.order?.epoch !== epoch) {
    const { plan, shuffle } = known;
    known.order = { epoch, indices: epochOrder(plan.samples.length, shuffle, plan.seed, epoch) };
  }
  return known.order.indices;
};

self.onmessage = async (event: MessageEvent<LoaderRequest>) => {
  const message = event.data;
  if (message.kind === "plan") {
    loaders.set(message.loader, { plan: message.plan, shuffle: message.shuffle });
    return;
  }
  if (message.kind === "forget") {
    loaders.delete(message.loader);
    return;
  }
  const skipped: LoaderReply["skipped"][number][] = [];
  const reply = (body: Omit<LoaderReply, "request" | "skipped">, transfer: Transferable[] = []) =>
    self.postMessage(
      { request: message.request, skipped, ...body } satisfies LoaderReply,
      transfer,
    );
  const known = loaders.get(message.loader);
  if (!known) {
    reply({ error: toWire(new Error(`loader ${message.loader} has no plan in this worker`)) });
    return;
  }
  try {
    const batch = await buildPlannedBatch(
      known.plan,
      orderOf(known, message.epoch),
      message.epoch,
      message.index,
      (name, error) => skipped.push({ name, error: toWire(error) }),
    );
    reply({ batch }, [batch.images.buffer, batch.labels.buffer]);
  } catch (error) {
    reply({ error: toWire(error) });
  }
};
