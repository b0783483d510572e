/**
 * A counter-based weight generator that tools/make_deeplab_fixture.py
 * implements bit for bit with numpy: each element is a hash of (tensor name,
 * element index), mapped to a uniform value in [-0.5, 0.5) with 24 bits
 * (exact in f32), scaled per tensor kind in float64 and rounded to f32 once.
 * Every operation is a 32-bit integer op or a correctly rounded IEEE op, so
 * both languages produce identical bits. It fills a full ResNet-50 DeepLabV3
 * for the parity test without committing 160 MB of weights.
 *
 * @module
 */

/** FNV-1a over the UTF-8 bytes of a name. */
export const nameHash = (name: string): number => {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(name)) h = Math.imul(h ^ byte, 0x01000193);
  return h >>> 0;
};

/** splitmix32's finaliser. */
export const mix32 = (value: number): number => {
  let z = (value + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
};

/** The uniform value in [-0.5, 0.5) of element `index` of the tensor with hash `key`. */
export const syntheticUniform = (key: number, index: number): number =>
  (mix32((key ^ mix32(index)) >>> 0) >>> 8) * 2 ** -24 - 0.5;

/**
 * The synthetic values of a state-dict tensor in torchvision's layout: conv
 * and linear weights u * sqrt(12 / fan_in) (std 1/sqrt(fan_in)), BN weights
 * 1 + u/2, biases and running means u/5, running variances 0.75 + (u + 0.5)/2.
 */
export const syntheticTensor = (name: string, shape: readonly number[]): Float32Array => {
  const n = shape.reduce((a, b) => a * b, 1);
  const key = nameHash(name);
  const out = new Float32Array(n);
  let map: (u: number) => number;
  if (shape.length >= 2) {
    const scale = Math.sqrt(12 / shape.slice(1).reduce((a, b) => a * b, 1));
    map = (u) => u * scale;
  } else if (name.endsWith(".running_var")) map = (u) => 0.75 + 0.5 * (u + 0.5);
  else if (name.endsWith(".running_mean") || name.endsWith(".bias")) map = (u) => 0.2 * u;
  else map = (u) => 1 + 0.5 * u;
  for (let i = 0; i < n; i++) out[i] = map(syntheticUniform(key, i));
  return out;
};

/** Sum and sum of squares (float64) of a tensor's values: the fixture's checksum. */
export const checksum = (data: ArrayLike<number>): readonly [number, number] => {
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < data.length; i++) {
    sum += data[i];
    squares += data[i] * data[i];
  }
  return [sum, squares];
};
