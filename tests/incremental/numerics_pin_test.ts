/**
 * The training numerics the results table was made with, pinned. The table
 * (`deno task table`, results/synthetic.json) is filled run by run over many
 * commits and shares each task's step 0 between its rows, so a change that
 * reorders a sum (a split-K target, a tile's order of accumulation) would
 * leave rows that the current code no longer reproduces. This test trains
 * at the table's shapes (the `small` net at output stride 8, batch 8,
 * 64-pixel crops, its learning rates) on a small synthetic set: FT's step 0
 * from the shipped backbone, then GSC (POD, pseudo labels, SGC, SSRD, PPR's
 * prototypes), MiB (unbiased cross-entropy and distillation) and ILT
 * (LwF's distillation and ILT's feature term) from that step 0, one epoch a
 * step, and compares a SHA-256 of each run's final weights with the pinned
 * one.
 *
 * On a CPU adapter (llvmpipe; with AVX-512 or AVX2 code alike) the digests
 * must match bit for bit. A GPU may contract or order floating-point work
 * otherwise, so there the test only reports its digests. A change that is
 * meant to move the numerics updates PINNED here and says in its commit
 * which table rows it leaves behind.
 */
import { deepStrictEqual } from "node:assert/strict";
import { Effect, Result } from "effect";
import { parseTrainOptions } from "../../src/cli/train_options.ts";
import { writeSyntheticVoc } from "../../src/data/mod.ts";
import { Gpu } from "../../src/gpu/device.ts";
import { runIncremental } from "../../src/incremental/engine.ts";
import { checkpointPaths } from "../../src/incremental/run_state.ts";
import { readCheckpoint } from "../../src/nn/checkpoint.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";

/** SHA-256 of the final weights of each run, on a CPU adapter. */
const PINNED = {
  ft: "91d4db28c89f81933c75b21820b72497bc78764de28725044d186c87783be5aa",
  gsc: "60a20dead560c6decfc621055c2952c2f15461d6b8ddac1120fe41d427a671f6",
  mib: "a930e98572e185a832d7bf13eb64658c6462d99db3839faf6b4b63ba4527a3eb",
  ilt: "8631b1f1e764ff38b9c57aa951d2310bf0ef8da25d77ae9429f67456eaf78a07",
};

const root = await Deno.makeTempDir({ prefix: "gsc-numerics-pin-" });
globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));

/** The table's options for a run (examples/table.ts), on the small set, one epoch a step. */
const configOf = (method: string, out: string, ...extra: string[]) => {
  const parsed = parseTrainOptions([
    "--dataset",
    "synth",
    "--data-root",
    `${root}/data`,
    "--overlap",
    "--task",
    "15-5",
    "--seed",
    "1",
    "--method",
    method,
    "--epochs",
    "1",
    "--epochs-next",
    "1",
    "--strips",
    "0",
    "--out",
    `${root}/${out}`,
    "--quiet",
    ...extra,
  ]);
  if (Result.isFailure(parsed)) throw new Error(parsed.failure.message);
  return parsed.success.config;
};

/** SHA-256 (hex) of a checkpoint's weights, tensors in name order. */
const weightsDigest = async (path: string): Promise<string> => {
  const checkpoint = await Effect.runPromise(readCheckpoint(path));
  const names = Object.keys(checkpoint.tensors).filter((n) => !n.startsWith("optimizer.")).sort();
  const parts = names.map((n) => {
    const data = checkpoint.tensors[n].data;
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  });
  const all = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
};

Deno.test({
  name: "training at the table's shapes gives the pinned weights on a CPU adapter",
  ...gpuTestOptions,
  fn: async () => {
    await Effect.runPromise(
      writeSyntheticVoc({
        root: `${root}/data`,
        size: 64,
        counts: { train: 40, val: 1, test: 1 },
        seed: 11,
      }),
    );
    const ft = configOf("ft", "ft");
    await runGpu(runIncremental(ft));
    const step0 = checkpointPaths(ft.out).step(0);
    const gsc = configOf("gsc", "gsc", "--step0", step0);
    await runGpu(runIncremental(gsc));
    const mib = configOf("mib", "mib", "--step0", step0);
    await runGpu(runIncremental(mib));
    const ilt = configOf("ilt", "ilt", "--step0", step0);
    await runGpu(runIncremental(ilt));
    const digests = {
      ft: await weightsDigest(checkpointPaths(ft.out).last),
      gsc: await weightsDigest(checkpointPaths(gsc.out).last),
      mib: await weightsDigest(checkpointPaths(mib.out).last),
      ilt: await weightsDigest(checkpointPaths(ilt.out).last),
    };
    const adapter = await runGpu(Effect.map(Gpu, (gpu) => gpu.adapter));
    if (!adapter.isFallback) {
      console.log(`numerics on a GPU (not pinned): ${JSON.stringify(digests)}`);
      return;
    }
    deepStrictEqual(
      digests,
      PINNED,
      "the weights differ from the pinned training numerics: a change reordered " +
        "floating-point work, and the rows of results/synthetic.json trained before it are " +
        "no longer what the current code gives. If that is intended, update PINNED and name " +
        "the rows it leaves behind.",
    );
  },
});
