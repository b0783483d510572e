/**
 * Models: ResNet backbones and DeepLabV3 with a growing classifier.
 *
 * @module
 */
export * from "./deeplab.ts";
export * from "./layers.ts";
export * from "./params.ts";
export * from "./resnet.ts";
