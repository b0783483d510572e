/**
 * The filter gradient's split-K target on a GPU, side by side in one run: the
 * same training step (bench/model.ts's `measure`) timed with each target
 * number of invocations (and a cap on the partial sums' elements), so a GPU
 * machine can show which keeps its cores busy. The first variant is the
 * current default.
 *
 *     deno run -A bench/filter_splits.ts [--case resnet101:8:512:16:2]
 *         [--variants 4096:8388608,65536:16777216,262144:16777216] [--json FILE]
 *
 * Each variant is TARGET:MAX_PARTIAL_ELEMENTS. On a CPU adapter the tuning
 * does not apply (it keeps its own, smaller target), so every row measures
 * the same thing there. The default list puts the previous GPU default
 * (4096, 8 Mi) first, then the current one (65536, 16 Mi).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Effect } from "effect";
import { Gpu } from "../kernels.ts";
import { filterTuning } from "../src/ops/conv.ts";
import { caseLabel, measure, parseCase, type StepResult } from "./model.ts";
import { adapterLine, runBench, table } from "./support.ts";

/** One split-K tuning to time. */
interface Variant {
  readonly target: number;
  readonly maxPartial: number;
}

const parseVariants = (spec: string): Variant[] =>
  spec.split(",").map((v) => {
    const [target, maxPartial] = v.split(":").map(Number);
    if (!(target > 0) || !(maxPartial > 0)) {
      throw new RangeError(`--variants ${spec}: expected TARGET:MAX_PARTIAL,...`);
    }
    return { target, maxPartial };
  });

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      case: { type: "string", default: "resnet101:8:512:16:2" },
      variants: { type: "string", default: "4096:8388608,65536:16777216,262144:16777216" },
      json: { type: "string" },
    },
  });
  const c = parseCase(values.case);
  const variants = parseVariants(values.variants);
  const saved = { ...filterTuning };
  const results: { variant: Variant; step: StepResult }[] = [];
  await runBench(Effect.gen(function* () {
    const gpu = yield* Gpu;
    console.log(`## filter-gradient split-K target, ${caseLabel(c)} OS${c.outputStride}`);
    console.log(yield* adapterLine);
    if (gpu.adapter.isFallback) console.log("(a CPU adapter: the GPU tuning does not apply)");
    try {
      for (const variant of variants) {
        filterTuning.targetInvocations = variant.target;
        filterTuning.maxPartialElements = variant.maxPartial;
        results.push({ variant, step: yield* measure(c) });
      }
    } finally {
      Object.assign(filterTuning, saved);
    }
    const rows = [["target", "max partial", "ms/step", "train ms/step", "peak MiB"]];
    for (const { variant, step } of results) {
      rows.push([
        String(variant.target),
        String(variant.maxPartial),
        step.msPerStep.toFixed(0),
        step.trainMsPerStep.toFixed(0),
        step.peakMiB.toFixed(0),
      ]);
    }
    console.log(table(rows));
  }));
  if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(results, null, 2) + "\n");
}
