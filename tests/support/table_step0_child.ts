/**
 * Run by tests/tools/table_step0_test.ts in a temporary working folder (the
 * table's paths are relative to it): stores a finished FT run's step 0, then
 * finds it for a task that shares the first step once the run folders are
 * gone, and only while the FT run is recorded. Prints one JSON line.
 */
import { sharedStep0, storedStep0, storeStep0 } from "../../examples/table.ts";
import { CLASS_BENCHMARK } from "../../examples/table_benchmarks.ts";
import { resultKey, type ResultRun } from "../../mod.ts";

const benchmark = CLASS_BENCHMARK;
const ft = { task: "15-5", setting: benchmark.setting, row: "FT", seed: 1 } as ResultRun;
const folder = "runs/table/15-5/ft/seed-1/checkpoints";
await Deno.mkdir(folder, { recursive: true });
const bytes = Uint8Array.from({ length: 4099 }, (_, i) => (i * 37 + 11) % 251);
await Deno.writeFile(`${folder}/step-0.safetensors`, bytes);

await storeStep0(benchmark, ft);
const stored = await Deno.readFile(storedStep0(benchmark, "15-5", 1));
const copied = stored.length === bytes.length && stored.every((b, i) => b === bytes[i]);
// Another row's record stores nothing.
await storeStep0(benchmark, { ...ft, row: "MiB", seed: 2 });
const otherRow = await Deno.stat(storedStep0(benchmark, "15-5", 2)).then(() => true, () => false);

await Deno.remove("runs", { recursive: true });
const gsc = benchmark.rows.find((r) => r.label === "GSC")!;
const base = benchmark.rows.find((r) => r.label === "FT")!;
const keyed = (recorded: ResultRun[]) => ({
  benchmark,
  tasks: ["15-1"],
  extra: [],
  existing: true,
  commit: "test",
  launched: new Map<string, string>(),
  keep: () => Promise.reject(new Error("nothing is trained here")),
  recorded: new Map(recorded.map((r) => [resultKey(r), r])),
});
// 15-1 shares 15-5's first step: the stored copy serves it while the FT run is recorded.
const found = await sharedStep0("15-1", gsc, 1, keyed([ft]));
// Without the record, a later row would have FT trained again (this invocation trains nothing).
const unrecordedTrains = await sharedStep0("15-1", gsc, 1, keyed([])).then(
  () => false,
  (error) => String(error).includes("nothing is trained here"),
);
// Without the record, the FT row itself gets no step 0 (it trains its own).
const unrecorded = await sharedStep0("15-1", base, 1, keyed([]));
// Another seed's step 0 is never taken.
const otherSeed = await sharedStep0("15-1", base, 0, keyed([ft]));
console.log(JSON.stringify({ copied, otherRow, found, unrecordedTrains, unrecorded, otherSeed }));
