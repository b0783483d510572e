/**
 * Host-side layout conversions between PyTorch's conv weights (OIHW) and
 * this project's (HWIO, the GEMM's row-major B matrix).
 *
 * @module
 */

/** OIHW data of shape [O, I, KH, KW] to HWIO ([KH, KW, I, O]). */
export const oihwToHwio = (data: ArrayLike<number>, shape: readonly number[]): Float32Array => {
  const [o, i, kh, kw] = shape;
  const out = new Float32Array(o * i * kh * kw);
  for (let a = 0; a < o; a++) {
    for (let b = 0; b < i; b++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          out[((y * kw + x) * i + b) * o + a] = data[((a * i + b) * kh + y) * kw + x];
        }
      }
    }
  }
  return out;
};

/** HWIO data of shape [KH, KW, I, O] to OIHW ([O, I, KH, KW]). */
export const hwioToOihw = (data: ArrayLike<number>, shape: readonly number[]): Float32Array => {
  const [kh, kw, i, o] = shape;
  const out = new Float32Array(o * i * kh * kw);
  for (let a = 0; a < o; a++) {
    for (let b = 0; b < i; b++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          out[((a * i + b) * kh + y) * kw + x] = data[((y * kw + x) * i + b) * o + a];
        }
      }
    }
  }
  return out;
};

/** NCHW data of shape [N, C, H, W] to NHWC. */
export const nchwToNhwc = (data: ArrayLike<number>, shape: readonly number[]): Float32Array => {
  const [n, c, h, w] = shape;
  const out = new Float32Array(n * c * h * w);
  for (let b = 0; b < n; b++) {
    for (let k = 0; k < c; k++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          out[((b * h + y) * w + x) * c + k] = data[((b * c + k) * h + y) * w + x];
        }
      }
    }
  }
  return out;
};
