/**
 * Storage-buffer loads against texture loads on the adapter at hand: the same
 * 8x16 register-blocked matmul (C = A B, M = N = K = `--size`), reading A and
 * B either from storage buffers (as every kernel of this project does) or
 * from rgba32float textures with `textureLoad` (a texel is the same four
 * floats), timed interleaved. Both sum every output in the same order, so
 * the bench also checks that their outputs are bit for bit equal.
 *
 * Why: llvmpipe loads a storage buffer one SIMD lane at a time, inserting
 * each value into the vector with a variable lane index. With AVX-512 that
 * insert is cheap; with AVX2 alone it goes through memory, and the kernels
 * run about 5x slower. A texture load goes through llvmpipe's sampler, which
 * fetches all lanes with vector gathers whatever the instruction set.
 * `GALLIUM_OVERRIDE_CPU_CAPS=avx` makes llvmpipe generate AVX2 code on an
 * AVX-512 machine, so both kinds of machine can be measured on one.
 *
 *     deno run -A bench/texture_loads.ts [--size 1024] [--rounds 3]
 *     GALLIUM_OVERRIDE_CPU_CAPS=avx deno run -A bench/texture_loads.ts
 *
 * Raw WebGPU, outside the kernel layer: a measurement of the driver, not of
 * a project kernel.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** The kernel body shared by both variants; `load` writes the A or B operand load. */
const matmulBody = (size: number, load: (operand: "A" | "B") => string) => `
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let col0 = (wid.x * 8u + li % 8u) * 16u;
  let row0 = (wid.y * 8u + li / 8u) * 8u;
  var acc: array<vec4<f32>, 32>;
  for (var i = 0u; i < 32u; i++) { acc[i] = vec4<f32>(0.0); }
  for (var k = 0u; k < ${size}u; k += 4u) {
    var av: array<vec4<f32>, 8>;
    for (var r = 0u; r < 8u; r++) { av[r] = ${load("A")}; }
    var bv: array<vec4<f32>, 16>;
    for (var kk = 0u; kk < 4u; kk++) {
      for (var h = 0u; h < 4u; h++) { bv[4u * kk + h] = ${load("B")}; }
    }
    for (var r = 0u; r < 8u; r++) {
      let ar = av[r];
      for (var kk = 0u; kk < 4u; kk++) {
        for (var h = 0u; h < 4u; h++) {
          acc[4u * r + h] = fma(vec4<f32>(ar[kk]), bv[4u * kk + h], acc[4u * r + h]);
        }
      }
    }
  }
  for (var r = 0u; r < 8u; r++) {
    for (var h = 0u; h < 4u; h++) { c[((row0 + r) * ${size}u + col0) / 4u + h] = acc[4u * r + h]; }
  }
}`;

/** WGSL reading A [M, K] and B [K, N] from storage buffers of vec4 rows. */
const bufferKernel = (size: number) => `
@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<f32>>;
${
  matmulBody(size, (operand) =>
    operand === "A"
      ? `a[((row0 + r) * ${size}u + k) / 4u]`
      : `b[((k + kk) * ${size}u + col0) / 4u + h]`)
}`;

/** WGSL reading the same values from textures: texel (x, y) holds row y's floats 4x .. 4x + 3. */
const textureKernel = (size: number) => `
@group(0) @binding(0) var ta: texture_2d<f32>;
@group(0) @binding(1) var tb: texture_2d<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<f32>>;
${
  matmulBody(size, (operand) =>
    operand === "A"
      ? `textureLoad(ta, vec2<u32>(k / 4u, row0 + r), 0)`
      : `textureLoad(tb, vec2<u32>(col0 / 4u + h, k + kk), 0)`)
}`;

/** Whether /proc/cpuinfo lists AVX-512F, and the llvmpipe override in force, for the header. */
const cpuLine = async () => {
  const info = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const avx512 = /\bavx512f\b/.test(info) ? "AVX-512F" : /\bavx2\b/.test(info) ? "AVX2" : "?";
  const override = Deno.env.get("GALLIUM_OVERRIDE_CPU_CAPS");
  return `CPU ${avx512}${override ? `, GALLIUM_OVERRIDE_CPU_CAPS=${override}` : ""}`;
};

if (import.meta.main) {
  const { values: flags } = parseArgs({
    args: Deno.args,
    options: {
      size: { type: "string", default: "1024" },
      rounds: { type: "string", default: "3" },
    },
  });
  const size = Number(flags.size);
  if (!(size >= 128 && size % 128 === 0)) throw new Error(`--size: a multiple of 128, got ${size}`);
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error("no WebGPU adapter");
  const device = await adapter.requestDevice({
    requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize },
  });
  console.log(
    `## matmul ${size}^3: storage-buffer against texture loads, on ` +
      `${adapter.info.description || adapter.info.device || "an adapter"} (${await cpuLine()})`,
  );
  const values = (seed: number) =>
    Float32Array.from({ length: size * size }, (_, i) => ((i * seed) % 13) / 13 - 0.5);
  const [aValues, bValues] = [values(7919), values(104729)];
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const buffer = (data?: Float32Array) => {
    const b = device.createBuffer({ size: size * size * 4, usage, mappedAtCreation: !!data });
    if (data) {
      new Float32Array(b.getMappedRange()).set(data);
      b.unmap();
    }
    return b;
  };
  const texture = (data: Float32Array) => {
    const t = device.createTexture({
      size: [size / 4, size],
      format: "rgba32float",
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
    });
    device.queue.writeTexture({ texture: t }, data, { bytesPerRow: size * 4 }, [size / 4, size]);
    return t;
  };
  const pipeline = (code: string) =>
    device.createComputePipeline({
      layout: "auto",
      compute: { module: device.createShaderModule({ code }), entryPoint: "main" },
    });
  const variants = [
    { name: "storage buffers", pipeline: pipeline(bufferKernel(size)), out: buffer() },
    { name: "textures", pipeline: pipeline(textureKernel(size)), out: buffer() },
  ];
  const resources: GPUBindingResource[][] = [
    [{ buffer: buffer(aValues) }, { buffer: buffer(bValues) }],
    [texture(aValues).createView(), texture(bValues).createView()],
  ];
  const groups = variants.map((v, i) =>
    device.createBindGroup({
      layout: v.pipeline.getBindGroupLayout(0),
      entries: [...resources[i], { buffer: v.out }].map((resource, binding) => ({
        binding,
        resource,
      })),
    })
  );
  /** Seconds per product over `reps` back-to-back dispatches. */
  const time = async (i: number, reps: number) => {
    const started = performance.now();
    const encoder = device.createCommandEncoder();
    for (let r = 0; r < reps; r++) {
      const pass = encoder.beginComputePass();
      pass.setPipeline(variants[i].pipeline);
      pass.setBindGroup(0, groups[i]);
      pass.dispatchWorkgroups(size / 128, size / 64);
      pass.end();
    }
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    return (performance.now() - started) / 1000 / reps;
  };
  const readBack = async (source: GPUBuffer) => {
    const staging = device.createBuffer({
      size: size * size * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(source, 0, staging, 0, size * size * 4);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const bits = new Uint32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    return bits;
  };
  for (const i of [0, 1]) await time(i, 1);
  const [first, second] = [await readBack(variants[0].out), await readBack(variants[1].out)];
  const identical = first.every((bits, i) => bits === second[i]);
  const rates: number[][] = [[], []];
  for (let round = 0; round < Number(flags.rounds); round++) {
    for (const i of [0, 1]) rates[i].push(2 * size ** 3 / await time(i, 3) / 1e9);
  }
  const best = rates.map((r) => Math.max(...r));
  for (const [i, v] of variants.entries()) {
    console.log(`${v.name.padEnd(16)} ${best[i].toFixed(2)} GFLOP/s (best of ${rates[i].length})`);
  }
  console.log(
    `textures / buffers: ${
      (best[1] / best[0]).toFixed(2)
    }x; outputs bit for bit equal: ${identical}`,
  );
  device.destroy();
}
