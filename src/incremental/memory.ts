/**
 * The largest buffer one training iteration allocates, estimated from the
 * crop, the batch size and the model's widths: the biggest activation of
 * the forward pass (input, stem, each ResNet layer, ASPP's concatenation,
 * the full-resolution logits), each a whole f32 tensor bound as one storage
 * buffer. Gradients have the same shapes, so the estimate is a lower bound
 * of what a step needs: a configuration over a device's limit cannot run.
 *
 * @module
 */
import { type BackboneName, deepLabConfig, expansionOf } from "../nn/mod.ts";

/** What sizes the activations. */
export interface ActivationShape {
  readonly backbone: BackboneName;
  readonly outputStride: 8 | 16;
  readonly batchSize: number;
  readonly crop: number;
  /** The task's classes (the classifier's rows at its last step). */
  readonly classes: number;
}

/** The largest activation: its bytes and a readable description. */
export interface BufferEstimate {
  readonly bytes: number;
  /** E.g. `the logits at full resolution, 8 x 64 x 64 x 21 f32`. */
  readonly what: string;
}

/** The largest single activation of one iteration (see the module doc). */
export const largestActivation = (shape: ActivationShape): BufferEstimate => {
  const { batchSize: n, crop, outputStride: os, classes } = shape;
  const c = deepLabConfig(shape.backbone, os, classes);
  const e = expansionOf(c.block);
  const candidates: [string, number, number][] = [
    ["the input images", 1, 3],
    ["the stem's output", 2, c.width],
    ["layer1's output", 4, c.width * e],
    ["layer2's output", 8, c.width * 2 * e],
    ["layer3's output", Math.min(16, os), c.width * 4 * e],
    ["layer4's output", os, c.width * 8 * e],
    ["ASPP's concatenation", os, 5 * c.asppChannels],
    ["the logits at full resolution", 1, classes],
  ];
  let best: BufferEstimate = { bytes: 0, what: "" };
  for (const [name, stride, channels] of candidates) {
    const side = Math.ceil(crop / stride);
    const bytes = n * side * side * channels * 4;
    if (bytes > best.bytes) {
      best = { bytes, what: `${name}, ${n} x ${side} x ${side} x ${channels} f32` };
    }
  }
  return best;
};

/** The largest crop (>= `min`, <= `shape.crop`) whose largest activation fits `limit`; 0 if none. */
export const largestCropWithin = (shape: ActivationShape, limit: number, min = 16): number => {
  const fits = (crop: number) => largestActivation({ ...shape, crop }).bytes <= limit;
  if (!fits(min)) return 0;
  let [low, high] = [min, shape.crop];
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(middle)) low = middle;
    else high = middle - 1;
  }
  return low;
};

/** Bytes as a short human-readable size (binary units). */
export const formatBytes = (bytes: number): string => {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0
    ? `${bytes} bytes`
    : `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
};
