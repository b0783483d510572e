/**
 * A run whose batches loader workers build (`GSC_LOADER_WORKERS=2`) ends with
 * the same metrics and the same weights in its last checkpoint, bit for bit,
 * as one that builds them in the main thread (`GSC_LOADER_WORKERS=0`); only
 * the checkpoint's metadata (its timings) may differ.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Effect, Result } from "effect";
import { decodeSafetensors } from "../../src/io/safetensors.ts";
import { writeSyntheticVoc } from "../../src/data/mod.ts";
import { assertSameArray, runDeno, tinyTrainArgs } from "../support/train_cli.ts";

/** A checkpoint's tensors by name (its metadata, which holds timings, left out). */
const tensorsOf = (bytes: Uint8Array) => {
  const decoded = decodeSafetensors(bytes, "step-1.safetensors");
  if (Result.isFailure(decoded)) throw decoded.failure;
  return decoded.success.tensors;
};

const train = async (data: string, out: string, workers: number) => {
  const args = tinyTrainArgs({
    data,
    out,
    task: "19-1",
    seed: 2,
    epochs: 2,
    epochsNext: 1,
    strips: 0,
  });
  const output = await runDeno(args, { GSC_LOADER_WORKERS: String(workers) });
  assert(output.success, output.stderr);
  return {
    summary: JSON.parse(await Deno.readTextFile(`${out}/summary.json`)),
    last: tensorsOf(await Deno.readFile(`${out}/checkpoints/step-1.safetensors`)),
  };
};

Deno.test("a run with loader workers equals one without: metrics and weights", async () => {
  const root = await Deno.makeTempDir({ prefix: "gsc-workers-" });
  try {
    const data = `${root}/data`;
    await Effect.runPromise(
      writeSyntheticVoc({ root: data, size: 32, counts: { train: 40, val: 4, test: 12 }, seed: 6 }),
    );
    const main = await train(data, `${root}/main`, 0);
    const workers = await train(data, `${root}/workers`, 2);
    assertEquals(workers.summary.steps, main.summary.steps);
    assertEquals(workers.summary.complete, true);
    assert(main.last.size > 10, `${main.last.size} tensors`);
    assertEquals([...workers.last.keys()], [...main.last.keys()]);
    for (const [name, tensor] of main.last) {
      const other = workers.last.get(name)!;
      assertEquals(other.shape, tensor.shape, name);
      assertSameArray(other.data, tensor.data, name);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
