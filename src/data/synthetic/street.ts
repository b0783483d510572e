/**
 * Renders one synthetic street scene in Cityscapes' classes: sky, buildings,
 * vegetation, a wall or fence strip, sidewalk, terrain and road as bands and
 * blocks, then poles with traffic lights and signs, people, riders and
 * vehicles as shapes, each class with its own base colour and texture. A
 * {@link CityStyle} (palette, lighting, texture statistics, object scale)
 * makes the cities differ as domains do; the classes stay the same. The mask
 * holds Cityscapes labelIds (7 road ... 33 bicycle; 0 unlabeled and 1 ego
 * vehicle for the void rows at the bottom).
 *
 * @module
 */
import type { SeededRng } from "../../util/rng.ts";
import { CITYSCAPES_LABEL_IDS } from "../classes.ts";

/** How one city renders its scenes (its "domain"). */
export interface CityStyle {
  /** Per-class colour shift of this city's palette, added to the base colours (RGB). */
  readonly tint: readonly [number, number, number];
  /** Channel mixing strength: 0 keeps colours, 0.4 swaps a large part between channels. */
  readonly mix: number;
  /** Lighting: gain and gamma applied to the whole image. */
  readonly gain: number;
  readonly gamma: number;
  /** Texture period in pixels and texture contrast. */
  readonly period: number;
  readonly contrast: number;
  /** Sensor noise amplitude. */
  readonly noise: number;
  /** Object size factor. */
  readonly scale: number;
  /**
   * Hue rotation of the palette in degrees (about the grey axis, after the tint and
   * texture); absent or 0: none. The set's palette drift sets it ({@link driftHue}).
   */
  readonly hue?: number;
}

/**
 * The hue of the city at `index` of `count` cities when the palette drifts by
 * `drift` degrees from the first city to the last: linear in the index, so
 * the cities of later steps render in colours the first step never showed.
 */
export const driftHue = (drift: number, index: number, count: number): number =>
  count > 1 ? drift * index / (count - 1) : 0;

/**
 * The matrix that rotates RGB by `degrees` about the grey axis (Rodrigues'
 * formula): greys stay, saturated colours turn round the hue circle.
 */
export const hueRotation = (degrees: number): readonly number[] => {
  const a = degrees * Math.PI / 180;
  const [c, s] = [Math.cos(a), Math.sin(a)];
  const d = (1 - c) / 3;
  const e = s / Math.sqrt(3);
  return [c + d, d - e, d + e, d + e, c + d, d - e, d - e, d + e, c + d];
};

/** A city's style drawn from its own random stream. */
export function drawCityStyle(rng: SeededRng): CityStyle {
  return {
    tint: [rng.uniform(-45, 45), rng.uniform(-45, 45), rng.uniform(-45, 45)],
    mix: rng.uniform(0, 0.35),
    gain: rng.uniform(0.65, 1.3),
    gamma: rng.uniform(0.75, 1.35),
    period: rng.uniform(2.5, 8),
    contrast: rng.uniform(8, 40),
    noise: rng.uniform(2, 14),
    scale: rng.uniform(0.75, 1.3),
  };
}

// Base colour of each trainId (road, sidewalk, building, wall, fence, pole, light, sign,
// vegetation, terrain, sky, person, rider, car, truck, bus, train, motorcycle, bicycle).
const BASE: readonly (readonly [number, number, number])[] = [
  [90, 80, 95],
  [170, 140, 170],
  [120, 110, 100],
  [150, 140, 120],
  [160, 150, 110],
  [140, 140, 140],
  [230, 170, 40],
  [220, 220, 40],
  [70, 130, 40],
  [150, 190, 110],
  [90, 150, 220],
  [210, 40, 70],
  [250, 60, 20],
  [30, 50, 150],
  [40, 60, 90],
  [60, 100, 120],
  [30, 90, 110],
  [110, 40, 200],
  [150, 30, 60],
];
// Texture of each trainId: 0 flat, 1 horizontal stripes, 2 vertical stripes, 3 checker, 4 speckle.
const TEXTURE = [4, 1, 3, 2, 2, 0, 0, 0, 4, 4, 0, 1, 3, 0, 1, 2, 3, 4, 1];

/** A rendered street scene: RGB bytes and the labelId of every pixel. */
export interface StreetScene {
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
  readonly labelIds: Uint8Array;
}

const clampByte = (x: number) => (x < 0 ? 0 : x > 255 ? 255 : Math.round(x));

/** Renders a scene of `width` x `height` in `style`. */
export function renderStreet(
  rng: SeededRng,
  style: CityStyle,
  width: number,
  height: number,
): StreetScene {
  const train = new Uint8Array(width * height).fill(255);
  const fill = (c: number, x0: number, y0: number, x1: number, y1: number, ellipse = false) => {
    const [ax, bx] = [Math.max(0, Math.floor(x0)), Math.min(width, Math.ceil(x1))];
    const [ay, by] = [Math.max(0, Math.floor(y0)), Math.min(height, Math.ceil(y1))];
    const [cx, cy, rx, ry] = [(x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2];
    for (let y = ay; y < by; y++) {
      for (let x = ax; x < bx; x++) {
        const inside = !ellipse ||
          ((x + 0.5 - cx) / rx) ** 2 + ((y + 0.5 - cy) / ry) ** 2 <= 1;
        if (inside) train[y * width + x] = c;
      }
    }
  };
  const horizon = height * rng.uniform(0.3, 0.45);
  const kerb = height * rng.uniform(0.6, 0.7);
  fill(10, 0, 0, width, horizon + 2); // sky
  for (let x = 0; x < width;) { // buildings of several heights, gaps of vegetation
    const w = width * rng.uniform(0.12, 0.3);
    const top = horizon * rng.uniform(0.1, 0.8);
    fill(rng.float() < 0.75 ? 2 : 8, x, top, x + w, kerb);
    x += w;
  }
  fill(rng.float() < 0.5 ? 3 : 4, 0, kerb - height * 0.08, width, kerb); // wall or fence strip
  fill(1, 0, kerb, width, kerb + height * 0.08); // sidewalk
  fill(9, 0, kerb, width * rng.uniform(0.05, 0.25), kerb + height * 0.08); // terrain verge
  fill(0, 0, kerb + height * 0.08, width, height); // road
  const s = style.scale * height / 32;
  for (let k = rng.int(1, 2); k > 0; k--) { // poles with a light or a sign
    const x = rng.uniform(0, width - 2 * s);
    fill(5, x, kerb - 14 * s, x + Math.max(1, s), kerb + 2);
    if (rng.float() < 0.5) fill(6, x - s, kerb - 16 * s, x + 2 * s, kerb - 11 * s);
    else fill(7, x - 2 * s, kerb - 17 * s, x + 3 * s, kerb - 12 * s, true);
  }
  const objects = [11, 12, 13, 14, 15, 16, 17, 18];
  for (let k = rng.int(2, 4); k > 0; k--) {
    const c = objects[Math.floor(rng.float() * objects.length)];
    const [w, h] = c === 11
      ? [3, 8]
      : c === 12
      ? [4, 9]
      : c === 13
      ? [12, 6]
      : c === 14
      ? [14, 9]
      : c === 15
      ? [20, 10]
      : c === 16
      ? [30, 9]
      : c === 17
      ? [7, 5]
      : [7, 5];
    const x = rng.uniform(-w * s / 2, width - w * s / 2);
    const base = kerb + height * rng.uniform(0.1, 0.3);
    if (c === 12) fill(18, x - s, base - 4 * s, x + 6 * s, base, true); // a rider's bicycle
    fill(c, x, base - h * s, x + w * s, base, c === 11 || c === 12 || c === 17 || c === 18);
  }
  const egoRows = rng.int(0, Math.max(1, Math.floor(height / 16)));
  const labelIds = new Uint8Array(width * height);
  for (let p = 0; p < train.length; p++) {
    const row = Math.floor(p / width);
    labelIds[p] = row >= height - egoRows
      ? 1
      : train[p] === 255
      ? 0
      : CITYSCAPES_LABEL_IDS[train[p]];
  }
  return { width, height, rgb: paint(rng, style, train, width, height, egoRows), labelIds };
}

/** Colours every pixel from its class, texture and the city's style. */
function paint(
  rng: SeededRng,
  style: CityStyle,
  train: Uint8Array,
  width: number,
  height: number,
  egoRows: number,
): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  const phase = rng.uniform(0, style.period);
  const rotate = style.hue ? hueRotation(style.hue) : undefined;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const c = train[p];
      const base = y >= height - egoRows ? [20, 20, 20] : BASE[c] ?? [0, 0, 0];
      const u = (x + phase) / style.period;
      const v = (y + phase) / style.period;
      const kind = TEXTURE[c] ?? 0;
      const t = kind === 1
        ? Math.sin(2 * Math.PI * v)
        : kind === 2
        ? Math.sin(2 * Math.PI * u)
        : kind === 3
        ? ((Math.floor(u) + Math.floor(v)) % 2 ? 1 : -1)
        : kind === 4
        ? rng.uniform(-1, 1)
        : 0;
      const tinted = [0, 1, 2].map((k) => base[k] + style.tint[k] + t * style.contrast);
      const own = rotate
        ? [0, 1, 2].map((k) =>
          rotate[3 * k] * tinted[0] + rotate[3 * k + 1] * tinted[1] + rotate[3 * k + 2] * tinted[2]
        )
        : tinted;
      for (let k = 0; k < 3; k++) {
        const mixed = (1 - style.mix) * own[k] + style.mix * own[(k + 1) % 3];
        const lit = 255 * Math.pow(Math.max(0, mixed) / 255, style.gamma) * style.gain;
        rgb[p * 3 + k] = clampByte(lit + rng.uniform(-style.noise, style.noise));
      }
    }
  }
  return rgb;
}
