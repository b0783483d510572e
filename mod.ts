/**
 * gsc-webgpu: class-incremental semantic segmentation trained in WGSL compute
 * shaders on WebGPU, with the GSC method and the baselines of its field.
 *
 * Layers, bottom up: the GPU service and kernel DSL (`Gpu`, `defineKernel`),
 * tensors, ops (each with a float64 reference), and reverse-mode autograd.
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

/** Tensors: creation, upload, download, reshape, release. */
export {
  download,
  empty,
  fromArray,
  release,
  reshape,
  sizeOf,
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

/** Reverse-mode autograd: nodes, parameters, gradients. */
export { backward, constant, grad, gradients, parameter, record } from "./src/autograd/tape.ts";
export type { Backward, GpuScoped, Node, Parameter } from "./src/autograd/tape.ts";
