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

/** Optimizer: fused SGD with momentum/Nesterov/weight decay, parameter groups, poly schedule. */
export { advancePoly, makeSgd, polyLr, polySchedule } from "./src/optim/mod.ts";
export type { ParamGroup, PolySchedule, Sgd, SgdOptions, SgdState } from "./src/optim/mod.ts";

/** Models: DeepLabV3 on ResNet backbones (torchvision names), growing MiB-initialised classifier. */
export { deepLabConfig, makeDeepLabV3 } from "./src/nn/mod.ts";
export type {
  BackboneName,
  DeepLabConfig,
  DeepLabV3,
  ForwardOptions,
  SegmentationOutput,
} from "./src/nn/mod.ts";

/** Checkpoints: safetensors in torchvision's layout, checked loading, pretrained weights. */
export {
  CheckpointError,
  loadModelWeights,
  loadPretrained,
  readCheckpoint,
  saveCheckpoint,
} from "./src/io/checkpoint.ts";
export type { Checkpoint } from "./src/io/checkpoint.ts";

/** The incremental run: configuration, events and metrics shared by the CLI, engine and report. */
export { BACKBONE_NAMES, DATASET_NAMES, METHOD_NAMES } from "./src/incremental/types.ts";
export type { GscOptions, RunConfig, RunEvent, StepMetrics } from "./src/incremental/types.ts";

/** The step engine: every step of a task in one run, with per-epoch checkpoints and resume. */
export { runIncremental } from "./src/incremental/engine.ts";
export type { RunOptions, RunSummary } from "./src/incremental/engine.ts";

/** The method interface and the methods (FT, LwF, ILT, MiB, PLOP, GSC). */
export { fineTuning, gsc, ilt, lwf, makeMethod, mib, plop } from "./src/incremental/methods/mod.ts";
export type {
  Method,
  NewOutputs,
  Objective,
  OldOutputs,
  StepInfo,
} from "./src/incremental/method.ts";

/** The baselines' losses: unbiased CE/KD (MiB), KD (LwF), feature MSE (ILT), local POD and pseudo labels (PLOP). */
export {
  entropyHistogram,
  featureDistillation,
  knowledgeDistillation,
  localPod,
  medianThresholds,
  plopLocalPod,
  plopPseudoLabels,
  unbiasedCrossEntropy,
  unbiasedDistillation,
} from "./src/incremental/losses/mod.ts";

/** GSC's stages: SGC weights, SSRD loss, PPR re-labeling, class prototypes. */
export {
  accumulatePrototypes,
  finalizePrototypes,
  pseudoRelabel,
  sgcWeights,
  ssrdLoss,
} from "./src/incremental/gsc/mod.ts";

/** Evaluation: streaming GPU confusion matrix, IoU, mIoU (all/old/new), average over steps. */
export {
  accumulateConfusion,
  averageOverSteps,
  confusionToMetrics,
  makeConfusion,
} from "./src/incremental/metrics.ts";

/** Run outputs: PLOP's CSV, step JSON, report.md, mIoU SVG plot, prediction strips. */
export { miouPlotSvg, plopCsv, reportMarkdown, stripPng } from "./src/io/report/mod.ts";

/** The `gsc` command line: parsing, help, progress, and the entry point. */
export { helpText, makeProgressReporter, parseTrainOptions, runCli } from "./src/cli/mod.ts";
export { main as gscMain } from "./src/cli/main.ts";
