/**
 * The data layer's public API: datasets (synthetic, VOC, ADE20K, Cityscapes),
 * task splits and filtering, label lookup tables, augmentation and the loader.
 *
 * @module
 */
export {
  ADE_CLASSES,
  CITYSCAPES_CITIES,
  CITYSCAPES_CLASSES,
  CITYSCAPES_LABEL_IDS,
  CITYSCAPES_MAX_LABEL_ID,
  IGNORE_LABEL,
  VOC_CLASSES,
} from "./classes.ts";
export { classSetCacheKey, computeClassSets, defaultClassSetCacheFile } from "./classsets.ts";
export type { ClassSetOptions, ClassSets } from "./classsets.ts";
export { filterImages, keepImage } from "./filter.ts";
export type { FilterSetting } from "./filter.ts";
export {
  classSteps,
  domainSteps,
  findTask,
  getTask,
  seenClasses,
  seenDomains,
  stepClasses,
  stepCount,
  taskNames,
  TASKS,
} from "./tasks.ts";
export type { ClassTask, DomainTask, Task } from "./tasks.ts";
export { ADE_INFO, CITYSCAPES_INFO, VOC_INFO } from "./dataset.ts";
export type { Dataset, DatasetInfo, SampleRef } from "./dataset.ts";
export {
  CorruptFileError,
  DatasetLayoutError,
  DataWriteError,
  ImageDecodeError,
  LabelOutOfRangeError,
  ListFileMissingError,
  ListLineError,
  MissingSampleFileError,
  SizeMismatchError,
  UnknownTaskError,
} from "./errors.ts";
export type { ListPosition, SampleError, SkippedSample } from "./errors.ts";
export { applyLut, composeLuts, evalLut, trainTargetLut } from "./labels.ts";
export type { LabelLut, StepClasses } from "./labels.ts";
export { readList } from "./lists.ts";
export type { ListEntry } from "./lists.ts";
export { hashSeed, SeededRng } from "../util/rng.ts";
export type { RngState } from "../util/rng.ts";
export { classSetOf, illegalValues, readLabel, readSample } from "./sample.ts";
export type { DecodedSample } from "./sample.ts";
export { openVoc, vocListCandidates } from "./voc.ts";
export type { VocOptions } from "./voc.ts";
export { openAde20k } from "./ade.ts";
export type { AdeOptions } from "./ade.ts";
export { openCityscapes, samplesOfDomains } from "./cityscapes.ts";
export type { CityscapesOptions } from "./cityscapes.ts";
export { COLOURS, SCENE_GROUPS, sceneGroupOf, SYNTHETIC_CLASSES } from "./synthetic/classes.ts";
export type { Rgb, ShapeKind, SyntheticClass, TextureKind } from "./synthetic/classes.ts";
export { renderScene } from "./synthetic/render.ts";
export type { RenderOptions, Scene } from "./synthetic/render.ts";
export {
  DEFAULT_SYNTHETIC_ROOT,
  SYNTHETIC_DEFAULT_COUNTS,
  SYNTHETIC_GENERATOR_VERSION,
  writeSyntheticVoc,
} from "./synthetic/write.ts";
export type { SyntheticOptions, SyntheticSummary } from "./synthetic/write.ts";
export {
  applyAugment,
  augmentTrain,
  cropPair,
  flipPair,
  IMAGENET_MEAN,
  IMAGENET_STD,
  normalizeInto,
  padPair,
  prepareEval,
  resizeCenterCrop,
  scalePair,
  STANDARD_SCALE_RANGE,
} from "./augment.ts";
export type { Augment, EvalAugment, ImageLabelPair, TrainAugment } from "./augment.ts";
export { resizeBilinear, resizeNearest } from "./resize.ts";
export { createLoader } from "./loader.ts";
export type { Batch, BatchStream, Loader, LoaderOptions } from "./loader.ts";
export { validateSamples } from "./validate.ts";
export {
  baseName,
  dirName,
  fileStamp,
  isDirectory,
  isFile,
  joinPath,
  listFolder,
  readSampleFile,
  stem,
} from "./files.ts";
export type { FileStamp } from "./files.ts";
