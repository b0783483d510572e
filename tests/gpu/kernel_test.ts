import fc from "fast-check";
import { defineKernel, kernelHeader, linearGrid, paramsByteSize } from "../../src/gpu/kernel.ts";
import { bucketSize } from "../../src/gpu/pool.ts";

Deno.test("the generated header declares bindings in order, the params struct and constants", () => {
  const kernel = defineKernel({
    name: "k",
    source: "",
    bindings: { x: { access: "read", type: "vec4f" }, y: { access: "read_write", type: "i32" } },
    params: { n: "u32", alpha: "f32" },
    constants: { OP: "u32", SCALE: "f32" },
    workgroupSize: [64, 2, 1],
    dispatch: () => [1, 1, 1],
  });
  const header = kernelHeader(kernel as never, { OP: 3, SCALE: 2 });
  const expected = [
    "@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;",
    "@group(0) @binding(1) var<storage, read_write> y: array<i32>;",
    "struct Params { n: u32, alpha: f32, }",
    "@group(0) @binding(2) var<uniform> params: Params;",
    "const OP: u32 = 3u;",
    "const SCALE: f32 = f32(2.0);",
    "const WG_X: u32 = 64u;",
    "const WG_Y: u32 = 2u;",
    "const WG_Z: u32 = 1u;",
    "fn linear_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 " +
    "{ return gid.x + gid.y * groups.x * WG_X; }",
  ];
  if (header.text !== expected.join("\n") + "\n") throw new Error(header.text);
  if (header.lines !== expected.length) throw new Error(`lines ${header.lines}`);
  if (paramsByteSize(kernel as never) !== 16) throw new Error("params size");
});

Deno.test("linearGrid covers every item without exceeding the per-dimension limit", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 2 ** 28 }),
      fc.integer({ min: 1, max: 1024 }),
      fc.integer({ min: 1, max: 65535 }),
      (n, per, limit) => {
        // WebGPU's limit, and any smaller one (GSC_GRID_FOLD) on counts it can hold in two dims.
        const cases = [65535, ...(Math.ceil(n / per) <= limit * limit ? [limit] : [])];
        return cases.every((max) => {
          const [x, y, z] = linearGrid(n, per, max);
          return x <= max && y <= max && z === 1 && x * y * per >= n &&
            (x * (y - 1)) * per < n;
        });
      },
    ),
    { seed: 42, numRuns: 500 },
  );
});

Deno.test("pool buckets hold the request, waste at most a quarter, and are multiples of 4", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2 ** 30 }), (bytes) => {
      const size = bucketSize(bytes);
      return size >= bytes && size % 4 === 0 && (size <= 256 || size <= bytes * 1.25 + 4);
    }),
    { seed: 42, numRuns: 2000 },
  );
});
