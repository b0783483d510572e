/**
 * gsc-webgpu: class-incremental semantic segmentation trained in WGSL compute
 * shaders on WebGPU, with the GSC method and the baselines of its field.
 *
 * This entry is the job: configure and run an incremental task
 * ({@link runIncremental}), the methods and the autograd losses a method is
 * composed of, the model, checkpoints, metrics and the run report. The kernel
 * author's API (the GPU service, the kernel DSL, tensors and tensor ops) is the
 * second entry, `@gsc/webgpu/kernels`.
 *
 * ```ts
 * import { Effect, Result } from "effect";
 * import { Gpu, parseTrainOptions, runIncremental } from "@gsc/webgpu";
 *
 * const parsed = parseTrainOptions(["--dataset", "synth", "--task", "15-1", "--overlap"]);
 * if (Result.isSuccess(parsed)) {
 *   const summary = await Effect.runPromise(
 *     runIncremental(parsed.success.config).pipe(Effect.provide(Gpu.layer)),
 *   );
 *   console.log(summary.out);
 * }
 * ```
 *
 * (`examples/api.ts` is this example as a script.)
 *
 * @module
 */

/** The step engine: every step of a task in one run, with per-epoch checkpoints and resume. */
export { runIncremental } from "./src/incremental/engine.ts";
export type { RunOptions, RunSummary } from "./src/incremental/engine.ts";
export { firstStepKey, taskClassesOf, taskStepsOf } from "./src/incremental/data.ts";

/** The incremental run: configuration, events and metrics shared by the CLI, engine and report. */
export { BACKBONE_NAMES, DATASET_NAMES, METHOD_NAMES } from "./src/incremental/types.ts";
export type { GscOptions, RunConfig, RunEvent, StepMetrics } from "./src/incremental/types.ts";

/** The GPU as an Effect service (provide `Gpu.layer` to run anything). */
export { describeAdapter, Gpu } from "./src/gpu/device.ts";
export type { AdapterReport, GpuOptions } from "./src/gpu/device.ts";
export type { GpuError } from "./src/gpu/errors.ts";

/** The method interface and the methods (FT, LwF, ILT, MiB, PLOP, GSC; Joint, the upper bound). */
export {
  crossEntropyClassification,
  fineTuning,
  gsc,
  ilt,
  joint,
  lwf,
  makeMethod,
  mib,
  plop,
  unbiasedClassification,
} from "./src/incremental/methods/mod.ts";
export type {
  ClassificationLoss,
  Method,
  NewOutputs,
  Objective,
  OldOutputs,
  StepInfo,
} from "./src/incremental/method.ts";

/** The autograd a method's objective is composed of: nodes, arithmetic and losses. */
export { add, mul, scale, sub, sumAll } from "./src/autograd/basic.ts";
export {
  bceWithLogits,
  crossEntropy,
  klDivergence,
  maskedMean,
  maskedSum,
} from "./src/autograd/losses.ts";
export { logSoftmax, softmax } from "./src/autograd/softmax.ts";
export { constant } from "./src/autograd/tape.ts";
export type { GpuScoped, Node, Parameter } from "./src/autograd/tape.ts";

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

/** GSC's parts beside PLOP: SGC weights, SSRD loss, PPR's corrected logits, class prototypes. */
export {
  accumulatePrototypes,
  finalizePrototypes,
  prototypeCorrectedLogits,
  sgcWeights,
  ssrdLoss,
} from "./src/incremental/gsc/mod.ts";

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
export { CheckpointError, readCheckpoint, saveCheckpoint } from "./src/nn/checkpoint.ts";
export { loadModelWeights, loadPretrained } from "./src/nn/load_weights.ts";
export { exportBackbone } from "./src/nn/backbone_export.ts";
export type { Checkpoint } from "./src/nn/checkpoint.ts";

/** Evaluation: streaming GPU confusion matrix, IoU, mIoU (all/old/new), average over steps. */
export {
  accumulateConfusion,
  averageOverSteps,
  confusionToMetrics,
  makeConfusion,
  resplitMetrics,
} from "./src/incremental/metrics.ts";

/** Run outputs: PLOP's CSV, step JSON, report.md, mIoU SVG plot, prediction strips. */
export {
  miouPlotSvg,
  parseStepJson,
  plopCsv,
  reportMarkdown,
  stripPng,
} from "./src/incremental/report/mod.ts";

/** Results tables across runs: one record per run (JSON), merged, rendered as markdown. */
export {
  mergeRuns,
  parseResults,
  resplitJointRecord,
  resultKey,
  resultsJson,
  resultsMarkdown,
  runRecord,
} from "./src/incremental/report/mod.ts";
export type { ResultRun, ResultsFile } from "./src/incremental/report/mod.ts";

/** Data: the built-in synthetic benchmark (VOC layout), its classes and palette, seeded RNG. */
export {
  DEFAULT_SYNTHETIC_ROOT,
  SYNTHETIC_DEFAULT_COUNTS,
  VOC_CLASSES,
  writeSyntheticVoc,
} from "./src/data/mod.ts";
export { SeededRng } from "./src/util/rng.ts";
export { VOC_PALETTE } from "./src/data/palette.ts";

/** The `gsc` command line: parsing, help, progress, and the entry point. */
export { helpText, makeProgressReporter, parseTrainOptions, runCli } from "./src/cli/mod.ts";
export { main as gscMain } from "./src/cli/main.ts";
