/**
 * `deno task bench`: every benchmark of the project in one run, on one adapter:
 * matmul GFLOP/s, conv2d (forward, input and filter gradients) next to TF.js's
 * WebGPU backend, and image decoding throughput.
 *
 * @module
 */
import { benchMatmul } from "./matmul.ts";
import { benchConv } from "./conv.ts";
import { benchData } from "./data.ts";

await benchMatmul();
await benchConv();
await benchData();
await (await import("./model.ts")).benchModel();
