import { Effect } from "effect";
import { Gpu } from "../../src/gpu/device.ts";
import { defineKernel } from "../../src/gpu/kernel.ts";
import { empty, fromArray } from "../../src/tensor/tensor.ts";
import { matmul } from "../../src/ops/matmul.ts";
import { copyRegion } from "../../src/ops/core.ts";
import { binaryInto } from "../../src/ops/elementwise.ts";
import { textureReads } from "../../src/ops/texture_reads.ts";
import { gpuTestOptions, runGpu, runGpuResult } from "../support/gpu.ts";

const assertEq = (actual: unknown, expected: unknown, label: string) => {
  if (actual !== expected) throw new Error(`${label}: expected ${expected}, got ${actual}`);
};

const failureOf = async <A, E>(
  program: Effect.Effect<A, E, Gpu | import("effect").Scope.Scope>,
) => {
  const result = await runGpuResult(program);
  if (result._tag !== "Failure") throw new Error("expected the program to fail");
  return result.failure as { _tag: string } & Record<string, unknown>;
};

const broken = defineKernel({
  name: "shaders/test/broken.wgsl",
  source: [
    "@compute @workgroup_size(WG_X, 1, 1)",
    "fn main(@builtin(global_invocation_id) gid: vec3<u32>) {",
    "  let ok = out[0];",
    "  let bad: f32 = 1u;",
    "}",
  ].join("\n"),
  bindings: { out: { access: "read_write", type: "f32" } },
  workgroupSize: [1, 1, 1],
  dispatch: () => [1, 1, 1],
});

Deno.test({
  name: "invalid WGSL fails with a ShaderCompileError positioned in the kernel's own file",
  ...gpuTestOptions,
  fn: async () => {
    const error = await failureOf(Effect.gen(function* () {
      const gpu = yield* Gpu;
      const out = yield* empty([4], "f32");
      yield* gpu.recorder.dispatch(broken, { out }, {});
    }));
    assertEq(error._tag, "ShaderCompileError", "tag");
    assertEq(error.line, 4, "line");
    assertEq(error.column, 7, "column");
    if (!String(error.message).includes("shaders/test/broken.wgsl:4:7")) {
      throw new Error(`message lacks file:line:column: ${error.message}`);
    }
  },
});

Deno.test({
  name: "a tensor of the wrong dtype is refused before dispatch",
  ...gpuTestOptions,
  fn: async () => {
    const error = await failureOf(Effect.gen(function* () {
      const a = yield* fromArray([1, 2, 3, 4], [2, 2], "f32");
      const b = yield* fromArray([1, 2, 3, 4], [2, 2], "i32");
      const out = yield* empty([2, 2], "f32");
      yield* binaryInto("add", a, b as never, out);
    }));
    assertEq(error._tag, "BindingError", "tag");
    assertEq(error.binding, "b", "binding");
  },
});

Deno.test({
  name: "a too-small buffer is refused before dispatch",
  ...gpuTestOptions,
  fn: async () => {
    const error = await failureOf(Effect.gen(function* () {
      const a = yield* fromArray([1, 2, 3, 4, 5, 6], [2, 3], "f32");
      const small = yield* empty([2], "f32");
      yield* copyRegion(a, small, {
        rows: 2,
        cols: 3,
        srcOffset: 0,
        srcStride: 3,
        dstOffset: 0,
        dstStride: 3,
      });
    }));
    assertEq(error._tag, "BindingError", "tag");
    assertEq(error.binding, "dst", "binding");
    if (!String(error.reason).includes("at least 6")) throw new Error(String(error.reason));
  },
});

Deno.test({
  name: "matmul with operands too small for the spec is refused",
  ...gpuTestOptions,
  fn: async () => {
    const error = await failureOf(Effect.gen(function* () {
      const a = yield* fromArray([1, 2, 3, 4], [2, 2], "f32");
      return yield* matmul(a, a, { m: 2, n: 2, k: 3 });
    }));
    assertEq(error._tag, "BindingError", "tag");
  },
});

Deno.test({
  name: "binding one buffer for reading and writing in one dispatch is refused",
  ...gpuTestOptions,
  fn: async () => {
    const error = await failureOf(Effect.gen(function* () {
      const a = yield* fromArray([1, 2, 3, 4], [4], "f32");
      yield* binaryInto("add", a, a, a);
    }));
    assertEq(error._tag, "BindingError", "tag");
    assertEq(error.binding, "out", "binding");
  },
});

Deno.test({
  name: "the aliasing rule holds when the operands are read through texture copies",
  ...gpuTestOptions,
  fn: async () => {
    const saved = { ...textureReads };
    Object.assign(textureReads, { withoutAvx512OnCpu: true, onGpu: true });
    try {
      const error = await failureOf(Effect.gen(function* () {
        const a = yield* fromArray([1, 2, 3, 4], [4], "f32");
        yield* binaryInto("add", a, a, a);
      }));
      assertEq(error._tag, "BindingError", "tag");
      assertEq(error.binding, "out", "binding");
    } finally {
      Object.assign(textureReads, saved);
    }
  },
});

Deno.test("a snapshot binding must be a read-only texture copy", () => {
  const declare = (via: "buffer" | "texture", access: "read" | "read_write") => () =>
    defineKernel({
      name: "snapshot",
      source: "",
      bindings: { old: { access, type: "f32", via, snapshot: true } },
      workgroupSize: [1, 1, 1],
      dispatch: () => [1, 1, 1],
    });
  declare("texture", "read")();
  for (const bad of [declare("buffer", "read"), declare("texture", "read_write")]) {
    let thrown: unknown;
    try {
      bad();
    } catch (e) {
      thrown = e;
    }
    if (!(thrown instanceof TypeError) || !String(thrown.message).includes("snapshot")) {
      throw new Error(`expected a TypeError naming the snapshot, got ${thrown}`);
    }
  }
});

Deno.test({
  name: "an allocation beyond the device's buffer limit fails with OutOfMemoryError",
  ...gpuTestOptions,
  fn: async () => {
    // The limit is the device's own (2^31 - 1 on llvmpipe, far more on a large GPU): one word past it.
    const max = await runGpu(Effect.map(Gpu, (gpu) => gpu.device.limits.maxBufferSize));
    const elements = Math.floor(max / 4) + 1;
    let created = -1;
    const error = await failureOf(Effect.gen(function* () {
      const gpu = yield* Gpu;
      created = gpu.pool.stats().created;
      yield* empty([elements], "f32");
    }));
    assertEq(error._tag, "OutOfMemoryError", "tag");
    if (!(Number(error.bytes) > max)) throw new Error(`bytes ${error.bytes} within limit ${max}`);
    if (!String(error.message).includes("maxBufferSize")) throw new Error(String(error.message));
    // Refused up front: no buffer was created for it.
    const after = await runGpu(Effect.map(Gpu, (gpu) => gpu.pool.stats().created));
    assertEq(after, created, "buffers created");
  },
});
