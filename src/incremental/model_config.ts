/**
 * The DeepLabV3 configuration a run builds.
 *
 * @module
 */
import { type DeepLabConfig, deepLabConfig } from "../nn/mod.ts";
import type { RunConfig } from "./types.ts";

/** The model of `config` with `classes` classifier rows. */
export const modelConfigFor = (config: RunConfig, classes: number): DeepLabConfig =>
  deepLabConfig(config.backbone, config.outputStride, classes);
