/**
 * The side-by-side bench's parsing: the step times it reads off a printed
 * bench table (per-step-synced and as the engine trains), and which one
 * stands for a tree's training step.
 */
import { engineStepMs, llvmpipeCodeLine, parseStepMs } from "../../bench/compare.ts";

const NEW_TABLE = `
## DeepLabV3 training step (16 classes, SGD momentum, head 10x lr)
model           OS  params  dispatches  ms/step  images/s  train ms/step  peak MiB
small b8 64x64  8   0.61M   156         141      56.80     144            35
small b8 64x64  16  0.61M   156         91       87.71     72             27
`;

const OLD_TABLE = `
model           OS  params  dispatches  ms/step  images/s  peak MiB
small b8 64x64  16  0.61M   464         645      12.40     40
`;

Deno.test("the compared row's ms/step and train ms/step are read at output stride 16", () => {
  if (parseStepMs(NEW_TABLE) !== 91) throw new Error(`ms/step ${parseStepMs(NEW_TABLE)}`);
  const train = parseStepMs(NEW_TABLE, "small b8 64x64", "train ms/step");
  if (train !== 72) throw new Error(`train ms/step ${train}`);
  if (parseStepMs(OLD_TABLE) !== 645) throw new Error(`old ms/step ${parseStepMs(OLD_TABLE)}`);
  const none = parseStepMs(OLD_TABLE, "small b8 64x64", "train ms/step");
  if (none !== undefined) throw new Error(`a table without the column gave ${none}`);
});

Deno.test("a tree's step as trained: train ms/step, else ms/step only if it read back every batch", () => {
  const cases: [number | undefined, boolean, number | undefined][] = [
    [72, false, 72],
    [72, true, 72],
    [undefined, true, 645],
    [undefined, false, undefined],
  ];
  for (const [trainMs, everyBatch, expected] of cases) {
    const got = engineStepMs({ ms: 645, trainMs }, everyBatch);
    if (got !== expected) throw new Error(`${trainMs}, ${everyBatch}: ${got} (${expected})`);
  }
});

Deno.test("the comparison names the llvmpipe code both trees run, and a capped one's variable", () => {
  const capped = llvmpipeCodeLine("avx", false);
  if (capped !== "llvmpipe code on a CPU adapter: AVX2 or below (GALLIUM_OVERRIDE_CPU_CAPS=avx)") {
    throw new Error(capped);
  }
  const own = llvmpipeCodeLine("", true);
  if (own !== "llvmpipe code on a CPU adapter: AVX-512") throw new Error(own);
});
