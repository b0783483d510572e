/**
 * The data layer's public API: datasets (synthetic, VOC, ADE20K, Cityscapes),
 * task splits and filtering, label lookup tables, augmentation and the loader.
 *
 * @module
 */
export * from "./classes.ts";
export * from "./classsets.ts";
export * from "./filter.ts";
export * from "./tasks.ts";
export * from "./dataset.ts";
export * from "./errors.ts";
export * from "./labels.ts";
export * from "./lists.ts";
export * from "../util/rng.ts";
export * from "./sample.ts";
export * from "./voc.ts";
export * from "./ade.ts";
export * from "./cityscapes.ts";
export * from "./synthetic/classes.ts";
export * from "./synthetic/render.ts";
export * from "./synthetic/write.ts";
export * from "./augment.ts";
export * from "./resize.ts";
export * from "./loader.ts";
export * from "./validate.ts";
export * from "./files.ts";
