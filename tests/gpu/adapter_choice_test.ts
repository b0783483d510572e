/**
 * The adapter choices of `--adapter`: `cpu` gets a fallback adapter or fails
 * naming what WebGPU offered, `gpu` gets a GPU or fails saying it was offered
 * only a CPU one, on whatever machine the test runs.
 */
import { ok as assert } from "node:assert/strict";
import { Effect, Exit } from "effect";
import { type AdapterChoice, type AdapterReport, Gpu } from "../../src/gpu/device.ts";
import { gpuTestOptions } from "../support/gpu.ts";

/** What a choice got: the adapter's report, or the failure's message. */
type Outcome =
  | { readonly adapter: AdapterReport; readonly error?: undefined }
  | { readonly adapter?: undefined; readonly error: string };

/** The adapter a choice gets, or the failure's message. */
const acquire = async (choice: AdapterChoice): Promise<Outcome> => {
  const exit = await Effect.runPromiseExit(
    Effect.scoped(Effect.map(Gpu, (gpu) => gpu.adapter)).pipe(
      Effect.provide(Gpu.layerFor(choice)),
    ),
  );
  return Exit.isSuccess(exit) ? { adapter: exit.value } : { error: String(exit.cause) };
};

Deno.test({
  name: "--adapter gpu gets a GPU or says WebGPU offered only a CPU adapter; cpu the reverse",
  ...gpuTestOptions,
  fn: async () => {
    const auto = await acquire("auto");
    if (auto.adapter === undefined) throw new Error(`no adapter at all: ${auto.error}`);
    const gpu = await acquire("gpu");
    if (auto.adapter.isFallback) {
      const error = gpu.error ?? `got ${JSON.stringify(gpu.adapter)}`;
      assert(error.includes("a GPU was asked for"), error);
      assert(error.includes(auto.adapter.description), error);
    } else {
      assert(gpu.adapter !== undefined && !gpu.adapter.isFallback, JSON.stringify(gpu));
    }
    const cpu = await acquire("cpu");
    if (cpu.adapter) assert(cpu.adapter.isFallback, JSON.stringify(cpu));
    else assert(cpu.error.includes("the CPU adapter was asked for"), cpu.error);
    // Where the first adapter is the CPU one, asking for it must work.
    if (auto.adapter.isFallback) assert(cpu.adapter !== undefined, JSON.stringify(cpu));
  },
});
