/**
 * Resizing of images (bilinear) and label maps (nearest: labels must never
 * be blended), with the pixel-centre convention of PIL and of PyTorch's
 * `align_corners=False`.
 *
 * @module
 */
import type { LabelImage, RgbImage } from "./image.ts";

/** Bilinear resize of an RGB image. */
export function resizeBilinear(image: RgbImage, width: number, height: number): RgbImage {
  const out = new Uint8Array(width * height * 3);
  const sx = image.width / width;
  const sy = image.height / height;
  const src = image.data;
  const rowStride = image.width * 3;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), image.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, image.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), image.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, image.width - 1);
      const wx = fx - x0;
      const a = y0 * rowStride + x0 * 3;
      const b = y0 * rowStride + x1 * 3;
      const c = y1 * rowStride + x0 * 3;
      const d = y1 * rowStride + x1 * 3;
      const o = (y * width + x) * 3;
      for (let k = 0; k < 3; k++) {
        const top = src[a + k] + (src[b + k] - src[a + k]) * wx;
        const bottom = src[c + k] + (src[d + k] - src[c + k]) * wx;
        out[o + k] = Math.round(top + (bottom - top) * wy);
      }
    }
  }
  return { width, height, data: out };
}

/** Nearest-neighbour resize of a label map. */
export function resizeNearest(label: LabelImage, width: number, height: number): LabelImage {
  const out = new Uint8Array(width * height);
  const sx = label.width / width;
  const sy = label.height / height;
  const columns = new Int32Array(width);
  for (let x = 0; x < width; x++) {
    columns[x] = Math.min(Math.floor((x + 0.5) * sx), label.width - 1);
  }
  for (let y = 0; y < height; y++) {
    const row = Math.min(Math.floor((y + 0.5) * sy), label.height - 1) * label.width;
    for (let x = 0; x < width; x++) out[y * width + x] = label.data[row + columns[x]];
  }
  return { width, height, data: out };
}
