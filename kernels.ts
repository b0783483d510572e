/**
 * The kernel author's API of gsc-webgpu (`@gsc/webgpu/kernels`): the GPU
 * service and its errors, the kernel DSL and the command recorder, tensors,
 * tensor ops, the autograd tape (nodes, `record`, gradients), parameter
 * arenas and the optimizer. The job's API (runs, methods, losses) is the
 * main entry, `mod.ts`.
 *
 * ```ts
 * import { Effect } from "effect";
 * import { download, fromArray, Gpu, matmul } from "@gsc/webgpu/kernels";
 *
 * const product = Effect.gen(function* () {
 *   const a = yield* fromArray([1, 2, 3, 4], [2, 2], "f32");
 *   return yield* download(yield* matmul(a, a, { m: 2, n: 2, k: 2 }));
 * });
 * console.log(await Effect.runPromise(Effect.scoped(product).pipe(Effect.provide(Gpu.layer))));
 * ```
 *
 * @module
 */

/** The GPU as an Effect service: device acquisition, adapter report, options. */
export { describeAdapter, Gpu } from "./src/gpu/device.ts";
export type { AdapterReport, GpuOptions, GpuShape } from "./src/gpu/device.ts";

/** Tagged errors of the GPU layer. */
export {
  BindingError,
  DeviceLostError,
  GpuValidationError,
  NoAdapterError,
  OutOfMemoryError,
  ShaderCompileError,
} from "./src/gpu/errors.ts";
export type { GpuError, ShaderDiagnostic } from "./src/gpu/errors.ts";

/** The kernel DSL: declare a WGSL kernel with typed bindings, params and constants. */
export { defineKernel, linearGrid } from "./src/gpu/kernel.ts";
export type { BindingSpec, DType, Grid, Kernel, ScalarType } from "./src/gpu/kernel.ts";

/** The execution context that records dispatches and submits once. */
export { CommandRecorder } from "./src/gpu/recorder.ts";
export type { BufferView } from "./src/gpu/recorder.ts";

/** Tensors: creation, upload, download, reshape, slices, release. */
export {
  download,
  empty,
  fromArray,
  release,
  reshape,
  sizeOf,
  slice,
  upload,
} from "./src/tensor/tensor.ts";
export type { HostArray, Shape, Tensor } from "./src/tensor/tensor.ts";

/** Core ops: fill, strided copy, clone. */
export { clone, copyRegion, fillInto, full, zeros } from "./src/ops/core.ts";

/** Elementwise ops. */
export {
  add,
  axpyInto,
  binary,
  binaryInto,
  exp,
  log,
  mul,
  relu,
  scale,
  sub,
  unary,
  unaryInto,
} from "./src/ops/elementwise.ts";

/** Reductions along an axis. */
export { argmax, max, mean, reduce, sum } from "./src/ops/reduce.ts";

/** Batched matmul with transposes and accumulation. */
export { matmul, matmulInto } from "./src/ops/matmul.ts";
export type { MatmulSpec } from "./src/ops/matmul.ts";

/** Reverse-mode autograd: nodes, parameters, gradients, and the ops' differentiable forms. */
export { addRelu, matmul as matmulNode, relu as reluNode } from "./src/autograd/basic.ts";
export { backward, constant, grad, gradients, parameter, record } from "./src/autograd/tape.ts";
export type { Backward, GpuScoped, GradientSink, Node, Parameter } from "./src/autograd/tape.ts";
export { conv2d } from "./src/autograd/conv.ts";
export { batchNorm } from "./src/autograd/norm.ts";

/** Parameter arenas: every parameter in one buffer, so an update is one dispatch. */
export { arenaOf, packParameters } from "./src/autograd/arena.ts";
export type { ArenaSlot, ParameterArena } from "./src/autograd/arena.ts";

/** Optimizer: SGD with momentum/Nesterov/weight decay (one dispatch over an arena), poly schedule. */
export { advancePoly, makeSgd, polyLr, polySchedule } from "./src/optim/mod.ts";
export type { ParamGroup, PolySchedule, Sgd, SgdOptions, SgdState } from "./src/optim/mod.ts";
