/**
 * Writes the synthetic VOC-layout benchmark and prints its counts and timing.
 *
 * Usage: deno run -A examples/synth.ts [dir] [--seed N] [--size N]
 *          [--train N] [--val N] [--test N]
 *
 * @module
 */
import { Effect } from "effect";
import { DEFAULT_SYNTHETIC_ROOT, VOC_CLASSES, writeSyntheticVoc } from "../mod.ts";

/** Reads `--flag N` from the arguments. */
function numberFlag(args: string[], flag: string): number | undefined {
  const at = args.indexOf(flag);
  if (at < 0) return undefined;
  const value = Number(args[at + 1]);
  if (!Number.isFinite(value)) throw new Error(`${flag} needs a number`);
  return value;
}

if (import.meta.main) {
  const args = Deno.args;
  const positional = args.filter((a, i) =>
    !a.startsWith("--") && !(i > 0 && args[i - 1].startsWith("--"))
  );
  const root = positional[0] ?? DEFAULT_SYNTHETIC_ROOT;
  const started = performance.now();
  const summary = await Effect.runPromise(writeSyntheticVoc({
    root,
    seed: numberFlag(args, "--seed"),
    size: numberFlag(args, "--size"),
    counts: {
      train: numberFlag(args, "--train"),
      val: numberFlag(args, "--val"),
      test: numberFlag(args, "--test"),
    },
  }));
  const seconds = (performance.now() - started) / 1000;
  const { train, val, test } = summary.counts;
  console.log(
    `wrote ${root}: ${train} train, ${val} val, ${test} test images of ${summary.size}x${summary.size} (seed ${summary.seed}) in ${
      seconds.toFixed(2)
    } s`,
  );
  console.log("images per class (train / val / test):");
  for (let c = 0; c < VOC_CLASSES.length; c++) {
    const [a, b, t] = ["train", "val", "test"].map((s) => summary.imagesPerClass[s][c]);
    console.log(`  ${String(c).padStart(2)} ${VOC_CLASSES[c].padEnd(12)} ${a} / ${b} / ${t}`);
  }
}
