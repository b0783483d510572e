/**
 * Networks: DeepLabV3 on ResNet backbones, their configurations and the
 * classifier growth used between incremental steps.
 *
 * @module
 */
export {
  asppRates,
  backboneChannels,
  deepLabConfig,
  expansionOf,
  isDeepLabConfig,
} from "./config.ts";
export type { BackboneName, BlockKind, DeepLabConfig } from "./config.ts";
export { backboneTensors, exportBackbone } from "./backbone_export.ts";
export { growMib } from "./classifier.ts";
export type { HostClassifier } from "./classifier.ts";
export { makeDeepLabV3 } from "./deeplab.ts";
export type {
  DeepLabV3,
  ForwardOptions,
  HostStateTensor,
  MakeDeepLabOptions,
  SegmentationOutput,
} from "./deeplab.ts";
export { applyBatchNorm, applyConv, convBn, makeParameter, ParameterStore } from "./layers.ts";
export type { BatchNormLayer, ConvLayer, ConvSpec, NormContext, StateEntry } from "./layers.ts";
export { hwioToOihw, nchwToNhwc, oihwToHwio } from "./layout.ts";
export { layerGeometry, makeResNet } from "./resnet.ts";
export type { ResNet } from "./resnet.ts";
export {
  checksum,
  mix32,
  nameHash,
  syntheticTensor,
  syntheticUniform,
} from "./synthetic_weights.ts";
