/**
 * `deno task bench`: every benchmark of the project in one run, on one adapter.
 *
 * @module
 */
import { benchMatmul } from "./matmul.ts";

await benchMatmul();
