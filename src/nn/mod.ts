/**
 * Networks: DeepLabV3 on ResNet backbones, their configurations and the
 * classifier growth used between incremental steps.
 *
 * @module
 */
export * from "./config.ts";
export * from "./classifier.ts";
export * from "./deeplab.ts";
export * from "./layers.ts";
export * from "./layout.ts";
export * from "./resnet.ts";
export * from "./synthetic_weights.ts";
