/**
 * `deno task bench`: every benchmark of the project in one run, on one adapter:
 * matmul GFLOP/s, conv2d (forward, input and filter gradients) next to TF.js's
 * WebGPU backend, the matmul / conv-forward and filter-gradient / forward
 * ratios measured interleaved (bench/ratios.ts), image decoding throughput, and the DeepLabV3 training step
 * (dispatches per step, ms/step, peak memory) next to the same step in PyTorch.
 *
 *     deno task bench [--profile] [--no-torch] [--torch-device cuda] [--case ...]
 *     deno task bench --compare REV [--rounds N]   (bench/compare.ts only)
 *
 * Flags go to the model benchmark (bench/model.ts documents them).
 *
 * @module
 */
import { benchMatmul } from "./matmul.ts";
import { benchConv } from "./conv.ts";
import { benchRatios } from "./ratios.ts";
import { benchData } from "./data.ts";
import { modelMain } from "./model.ts";

if (!Deno.args.some((a) => a === "--compare" || a.startsWith("--compare="))) {
  await benchMatmul();
  await benchConv();
  await benchRatios();
  await benchData();
}
await modelMain(Deno.args);
