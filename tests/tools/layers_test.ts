import { checkLayers, upwardImports } from "../../tools/layers.ts";

Deno.test("the layer check finds imports that point up, and only those", () => {
  const text = [
    'import { a } from "../gpu/device.ts";', // nn -> gpu: down
    'import type { B } from "./layers.ts";', // same layer
    "import {",
    "  c,",
    "  d,",
    '} from "../data/rng.ts";', // nn -> data: up, over several lines
    'export { e } from "../incremental/types.ts";', // a re-export up
    'import f from "../../shaders/x.wgsl" with { type: "text" };', // outside src
    'import { g } from "effect";',
  ].join("\n");
  const found = upwardImports("src/nn/deeplab.ts", text);
  const targets = found.map((u) => u.target);
  if (JSON.stringify(targets) !== JSON.stringify(["../data/rng.ts", "../incremental/types.ts"])) {
    throw new Error(`found ${JSON.stringify(targets)}`);
  }
  const unknown = upwardImports("src/widgets/a.ts", 'import { x } from "../gpu/device.ts";');
  if (unknown.length !== 1) throw new Error("a folder with no layer must be reported");
});

Deno.test("no source file imports from a layer above its own", async () => {
  const found = await checkLayers("src");
  if (found.length > 0) {
    throw new Error(found.map((u) => `${u.file}: ${u.target} (${u.from} -> ${u.to})`).join("\n"));
  }
});
