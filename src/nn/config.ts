/**
 * DeepLabV3 configurations. Every size of the network is explicit in the
 * config (and stored in checkpoints), so a model can be rebuilt from a file.
 *
 * @module
 */

/** Backbone names: torchvision's ResNets and `small`, a width-scaled ResNet for CPU runs. */
export type BackboneName = "small" | "resnet18" | "resnet34" | "resnet50" | "resnet101";

/** Residual block kinds: two 3x3 convs, or 1x1-3x3-1x1 with 4x expansion (v1.5: stride on the 3x3). */
export type BlockKind = "basic" | "bottleneck";

/** Everything that fixes the network's shapes. */
export interface DeepLabConfig {
  readonly backbone: BackboneName;
  /** Input size / feature size: 16 dilates layer4, 8 dilates layer3 and layer4. */
  readonly outputStride: 8 | 16;
  /** Rows of the classifier (background included). */
  readonly numClasses: number;
  readonly block: BlockKind;
  /** Stem channels and layer1's planes; layer k has width * 2^(k-1) planes. */
  readonly width: number;
  /** Residual blocks in layer1..layer4. */
  readonly blocks: readonly [number, number, number, number];
  /** Channels of every ASPP branch, the projection and the 3x3 head conv (256 in torchvision). */
  readonly asppChannels: number;
}

const BACKBONES: Record<BackboneName, Omit<DeepLabConfig, "outputStride" | "numClasses">> = {
  // Measured on llvmpipe (bench/model.ts): base width 16 and one block a layer keeps a
  // training step of 8 images at 64x64 well under a second.
  small: { backbone: "small", block: "basic", width: 16, blocks: [1, 1, 1, 1], asppChannels: 64 },
  resnet18: {
    backbone: "resnet18",
    block: "basic",
    width: 64,
    blocks: [2, 2, 2, 2],
    asppChannels: 256,
  },
  resnet34: {
    backbone: "resnet34",
    block: "basic",
    width: 64,
    blocks: [3, 4, 6, 3],
    asppChannels: 256,
  },
  resnet50: {
    backbone: "resnet50",
    block: "bottleneck",
    width: 64,
    blocks: [3, 4, 6, 3],
    asppChannels: 256,
  },
  resnet101: {
    backbone: "resnet101",
    block: "bottleneck",
    width: 64,
    blocks: [3, 4, 23, 3],
    asppChannels: 256,
  },
};

/** The configuration of a named backbone at an output stride with `numClasses` rows. */
export const deepLabConfig = (
  backbone: BackboneName,
  outputStride: 8 | 16,
  numClasses: number,
): DeepLabConfig => ({ ...BACKBONES[backbone], outputStride, numClasses });

/** Channel expansion of a block kind's output over its planes. */
export const expansionOf = (block: BlockKind): number => (block === "bottleneck" ? 4 : 1);

/** Channels of the backbone's output (layer4), the ASPP's input. */
export const backboneChannels = (config: DeepLabConfig): number =>
  config.width * 8 * expansionOf(config.block);

/** ASPP dilation rates: torchvision's 12/24/36 at output stride 8, halved at 16. */
export const asppRates = (outputStride: 8 | 16): readonly [number, number, number] =>
  outputStride === 8 ? [12, 24, 36] : [6, 12, 18];

/** Whether a value is a well-formed config (checks every field; used on checkpoint metadata). */
export const isDeepLabConfig = (value: unknown): value is DeepLabConfig => {
  if (typeof value !== "object" || value === null) return false;
  const c = value as Record<string, unknown>;
  const positive = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  return typeof c.backbone === "string" && c.backbone in BACKBONES &&
    (c.outputStride === 8 || c.outputStride === 16) && positive(c.numClasses) &&
    (c.block === "basic" || c.block === "bottleneck") && positive(c.width) &&
    Array.isArray(c.blocks) && c.blocks.length === 4 && c.blocks.every(positive) &&
    positive(c.asppChannels);
};
