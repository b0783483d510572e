/**
 * Augmentation of one decoded sample, as in the standard recipe: random
 * scale (0.5-2.0; bilinear image, nearest labels), padding to the crop size
 * (labels with 255, the image with 0 or the ImageNet mean), random crop,
 * horizontal flip. Evaluation keeps the image at its own size (the
 * reference codes' default), resizes it, or crops its centre (padded, or
 * after scaling its shorter side as MiB's and PLOP's `crop_val` does).
 * Every random choice comes from the {@link SeededRng} passed in.
 *
 * @module
 */
import type { LabelImage, RgbImage } from "./image.ts";
import { IGNORE_LABEL } from "./classes.ts";
import { resizeBilinear, resizeNearest } from "./resize.ts";
import type { SeededRng } from "../util/rng.ts";

/** An image and its label map of the same size. */
export interface ImageLabelPair {
  readonly image: RgbImage;
  readonly label: LabelImage;
}

/** ImageNet channel means (RGB, 0..1). */
export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
/** ImageNet channel standard deviations (RGB, 0..1). */
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

/** The standard recipe's random-scale range (MiB's, PLOP's: 0.5-2.0). */
export const STANDARD_SCALE_RANGE: readonly [number, number] = [0.5, 2];

/** Training augmentation settings. */
export interface TrainAugment {
  readonly kind: "train";
  /** Side of the square crop. */
  readonly cropSize: number;
  /** Random scale range; default {@link STANDARD_SCALE_RANGE}. */
  readonly scaleRange?: readonly [number, number];
  /** Random horizontal flip with probability 0.5; default true. */
  readonly flip?: boolean;
  /** Image padding: zeros, or the ImageNet mean (0 after normalisation). Default "mean". */
  readonly padImage?: "zero" | "mean";
}

/**
 * Evaluation preprocessing: `full` keeps the image as it is (MiB's and
 * PLOP's default, batch 1); `resize` scales it to `size`x`size`;
 * `centerCrop` pads it to at least `size` and crops the centre;
 * `resizeCenterCrop` scales the shorter side to `size` (bilinear image,
 * nearest labels) and crops the centre `size`x`size` (MiB's and PLOP's
 * `crop_val`: torchvision's Resize(size) then CenterCrop(size)).
 */
export type EvalAugment =
  | { readonly kind: "eval"; readonly mode: "full" }
  | {
    readonly kind: "eval";
    readonly mode: "resize" | "centerCrop" | "resizeCenterCrop";
    readonly size: number;
  };

/** Either kind of preprocessing. */
export type Augment = TrainAugment | EvalAugment;

/** Scales both by `scale` (image bilinear, labels nearest). */
export function scalePair(pair: ImageLabelPair, scale: number): ImageLabelPair {
  const width = Math.max(1, Math.round(pair.image.width * scale));
  const height = Math.max(1, Math.round(pair.image.height * scale));
  return {
    image: resizeBilinear(pair.image, width, height),
    label: resizeNearest(pair.label, width, height),
  };
}

/** Pads both evenly on all sides up to at least `size`x`size`. */
export function padPair(
  pair: ImageLabelPair,
  size: number,
  imageFill: readonly [number, number, number],
): ImageLabelPair {
  const { width, height } = pair.image;
  if (width >= size && height >= size) return pair;
  const newWidth = Math.max(width, size);
  const newHeight = Math.max(height, size);
  const left = Math.floor((newWidth - width) / 2);
  const top = Math.floor((newHeight - height) / 2);
  const image = new Uint8Array(newWidth * newHeight * 3);
  for (let p = 0; p < newWidth * newHeight; p++) image.set(imageFill, p * 3);
  const label = new Uint8Array(newWidth * newHeight).fill(IGNORE_LABEL);
  for (let y = 0; y < height; y++) {
    const to = (y + top) * newWidth + left;
    image.set(pair.image.data.subarray(y * width * 3, (y + 1) * width * 3), to * 3);
    label.set(pair.label.data.subarray(y * width, (y + 1) * width), to);
  }
  return {
    image: { width: newWidth, height: newHeight, data: image },
    label: { width: newWidth, height: newHeight, data: label },
  };
}

/** The `size`x`size` window at (left, top). */
export function cropPair(
  pair: ImageLabelPair,
  left: number,
  top: number,
  size: number,
): ImageLabelPair {
  const { width } = pair.image;
  const image = new Uint8Array(size * size * 3);
  const label = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    const from = (y + top) * width + left;
    image.set(pair.image.data.subarray(from * 3, (from + size) * 3), y * size * 3);
    label.set(pair.label.data.subarray(from, from + size), y * size);
  }
  return {
    image: { width: size, height: size, data: image },
    label: { width: size, height: size, data: label },
  };
}

/** Mirrors both left-right. */
export function flipPair(pair: ImageLabelPair): ImageLabelPair {
  const { width, height } = pair.image;
  const image = new Uint8Array(pair.image.data.length);
  const label = new Uint8Array(pair.label.data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = y * width + x;
      const to = y * width + (width - 1 - x);
      label[to] = pair.label.data[from];
      image[to * 3] = pair.image.data[from * 3];
      image[to * 3 + 1] = pair.image.data[from * 3 + 1];
      image[to * 3 + 2] = pair.image.data[from * 3 + 2];
    }
  }
  return { image: { width, height, data: image }, label: { width, height, data: label } };
}

/** The ImageNet mean as bytes: padding with it gives 0 after normalisation. */
const MEAN_BYTES = IMAGENET_MEAN.map((m) => Math.round(m * 255)) as unknown as [
  number,
  number,
  number,
];

/** Training augmentation: scale, pad, crop, flip, drawing from `rng` in that order. */
export function augmentTrain(
  pair: ImageLabelPair,
  options: TrainAugment,
  rng: SeededRng,
): ImageLabelPair {
  const [low, high] = options.scaleRange ?? STANDARD_SCALE_RANGE;
  let out = scalePair(pair, rng.uniform(low, high));
  out = padPair(out, options.cropSize, options.padImage === "zero" ? [0, 0, 0] : MEAN_BYTES);
  const left = rng.int(0, out.image.width - options.cropSize);
  const top = rng.int(0, out.image.height - options.cropSize);
  out = cropPair(out, left, top, options.cropSize);
  const flip = rng.chance(0.5);
  return (options.flip ?? true) && flip ? flipPair(out) : out;
}

/** Python's round(): halves go to the even neighbour (torchvision's centre crop uses it). */
const roundHalfEven = (x: number): number => {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
};

/**
 * torchvision's Resize(size) with an int: the shorter side becomes `size`,
 * the longer `int(size * long / short)`; then CenterCrop(size) at
 * (round((h - size) / 2), round((w - size) / 2)).
 */
export function resizeCenterCrop(pair: ImageLabelPair, size: number): ImageLabelPair {
  const { width, height } = pair.image;
  const [newWidth, newHeight] = width <= height
    ? [size, Math.floor((size * height) / width)]
    : [Math.floor((size * width) / height), size];
  const scaled = width === newWidth && height === newHeight ? pair : {
    image: resizeBilinear(pair.image, newWidth, newHeight),
    label: resizeNearest(pair.label, newWidth, newHeight),
  };
  const top = roundHalfEven((newHeight - size) / 2);
  const left = roundHalfEven((newWidth - size) / 2);
  return cropPair(scaled, left, top, size);
}

/** Evaluation preprocessing (no randomness). */
export function prepareEval(pair: ImageLabelPair, options: EvalAugment): ImageLabelPair {
  if (options.mode === "full") return pair;
  const { size } = options;
  if (options.mode === "resizeCenterCrop") return resizeCenterCrop(pair, size);
  if (options.mode === "resize") {
    return {
      image: resizeBilinear(pair.image, size, size),
      label: resizeNearest(pair.label, size, size),
    };
  }
  const padded = padPair(pair, size, MEAN_BYTES);
  const left = Math.floor((padded.image.width - size) / 2);
  const top = Math.floor((padded.image.height - size) / 2);
  return cropPair(padded, left, top, size);
}

/** Applies either preprocessing; `rng` is only drawn from for training. */
export function applyAugment(
  pair: ImageLabelPair,
  options: Augment,
  rng: SeededRng,
): ImageLabelPair {
  return options.kind === "train" ? augmentTrain(pair, options, rng) : prepareEval(pair, options);
}

/**
 * Writes an RGB image as normalised floats ((v / 255 - mean) / std) in HWC
 * order into `out` at `offset` (the NHWC slot of one batch item).
 */
export function normalizeInto(
  image: RgbImage,
  out: Float32Array,
  offset: number,
  mean: readonly [number, number, number] = IMAGENET_MEAN,
  std: readonly [number, number, number] = IMAGENET_STD,
): void {
  const scale = [0, 1, 2].map((k) => 1 / (255 * std[k]));
  const shift = [0, 1, 2].map((k) => mean[k] / std[k]);
  const src = image.data;
  for (let i = 0; i < src.length; i += 3) {
    out[offset + i] = src[i] * scale[0] - shift[0];
    out[offset + i + 1] = src[i + 1] * scale[1] - shift[1];
    out[offset + i + 2] = src[i + 2] * scale[2] - shift[2];
  }
}
