/**
 * Renders one synthetic scene: a cluttered background (gradient, waves,
 * noise, distractor blobs that stay background), then 1-4 objects drawn in
 * order so later ones occlude earlier ones, then lighting and sensor noise.
 * Object boundaries are marked 255 in the mask, like VOC's void outlines.
 *
 * @module
 */
import type { SeededRng } from "../../util/rng.ts";
import { BENCHMARK_CLASS_SET, type ClassSet, type Rgb, sceneGroupOf } from "./classes.ts";
import { insideShape } from "./shapes.ts";
import { textureColour, type TextureParams } from "./textures.ts";

/** A rendered scene: RGB bytes and the class index of every pixel. */
export interface Scene {
  readonly size: number;
  readonly rgb: Uint8Array;
  readonly labels: Uint8Array;
}

/** Options of {@link renderScene}. */
export interface RenderOptions {
  /** Side of the square image in pixels. */
  readonly size: number;
  /** Mark object boundaries 255 (void), as VOC does. */
  readonly voidBorder: boolean;
  /** The object classes (default: the benchmark's; pretrain_classes.ts has the corpus's). */
  readonly classSet?: ClassSet;
}
const clampByte = (x: number): number => (x < 0 ? 0 : x > 255 ? 255 : Math.round(x));

/** A colour near `base`: brightness and per-channel jitter, so classes overlap a little. */
function jitterColour(rng: SeededRng, base: Rgb): Rgb {
  const gain = rng.uniform(0.8, 1.15);
  return [0, 1, 2].map((k) => clampByte(base[k] * gain + rng.uniform(-18, 18))) as unknown as Rgb;
}

/** Paints the background: a two-colour gradient plus low-frequency waves. */
function paintBackground(rng: SeededRng, size: number, rgb: Float32Array): void {
  const dull = (): Rgb => {
    const grey = rng.uniform(60, 190);
    return [0, 1, 2].map(() => grey + rng.uniform(-40, 40)) as unknown as Rgb;
  };
  const a = dull();
  const b = dull();
  const angle = rng.uniform(0, 2 * Math.PI);
  const waves = [0, 1, 2].map(() => ({
    fx: rng.uniform(-6, 6) / size,
    fy: rng.uniform(-6, 6) / size,
    phase: rng.uniform(0, 2 * Math.PI),
    amp: rng.uniform(5, 20),
  }));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const t = 0.5 +
        0.5 * (((x / size) - 0.5) * Math.cos(angle) + ((y / size) - 0.5) * Math.sin(angle)) * 1.4;
      let wave = 0;
      for (const w of waves) {
        wave += w.amp * Math.sin(2 * Math.PI * (w.fx * x + w.fy * y) + w.phase);
      }
      const p = (y * size + x) * 3;
      for (let k = 0; k < 3; k++) rgb[p + k] = a[k] + (b[k] - a[k]) * t + wave;
    }
  }
}

/** One shape drawn into the canvas; `label` 0 marks a distractor. */
interface Drawable {
  readonly cx: number;
  readonly cy: number;
  readonly radius: number;
  readonly angle: number;
  readonly aspect: number;
  readonly inside: (u: number, v: number) => boolean;
  readonly colour: Rgb;
  readonly texture: TextureParams;
  readonly label: number;
}

/** Draws a shape: colour where inside, and the label when it is an object. */
function draw(d: Drawable, size: number, rgb: Float32Array, labels: Uint8Array): void {
  const reach = d.radius * Math.max(d.aspect, 1 / d.aspect) * 1.5;
  const x0 = Math.max(0, Math.floor(d.cx - reach));
  const x1 = Math.min(size - 1, Math.ceil(d.cx + reach));
  const y0 = Math.max(0, Math.floor(d.cy - reach));
  const y1 = Math.min(size - 1, Math.ceil(d.cy + reach));
  const cos = Math.cos(d.angle);
  const sin = Math.sin(d.angle);
  const colour = [0, 0, 0];
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      // Pixel centre into the object's frame: translate, rotate, scale.
      const dx = x + 0.5 - d.cx;
      const dy = y + 0.5 - d.cy;
      const u = (dx * cos + dy * sin) / (d.radius * d.aspect);
      const v = (-dx * sin + dy * cos) / (d.radius / d.aspect);
      if (!d.inside(u, v)) continue;
      textureColour(d.colour, d.texture, u, v, colour);
      const p = y * size + x;
      rgb[p * 3] = colour[0];
      rgb[p * 3 + 1] = colour[1];
      rgb[p * 3 + 2] = colour[2];
      labels[p] = d.label;
    }
  }
}

/** A distractor: an irregular blob of a random colour that is background. */
function distractor(rng: SeededRng, size: number, set: ClassSet): Drawable {
  const lobes = rng.int(2, 5);
  const wobble = rng.uniform(0.15, 0.4);
  const phase = rng.uniform(0, 2 * Math.PI);
  const saturated = rng.chance(0.35);
  const colour: Rgb = saturated
    ? jitterColour(rng, set.colours[rng.pick(Object.keys(set.colours))])
    : [rng.uniform(40, 220), rng.uniform(40, 220), rng.uniform(40, 220)];
  return {
    cx: rng.uniform(0, size),
    cy: rng.uniform(0, size),
    radius: rng.uniform(0.06, 0.2) * size,
    angle: rng.uniform(0, Math.PI),
    aspect: rng.uniform(0.6, 1.6),
    inside: (u, v) => Math.hypot(u, v) <= 1 + wobble * Math.sin(lobes * Math.atan2(v, u) + phase),
    colour,
    texture: {
      kind: rng.chance(0.25) ? rng.pick(set.textures) : "solid",
      frequency: rng.uniform(2, 5),
      angle: rng.uniform(0, Math.PI),
    },
    label: 0,
  };
}

/** An object of a class, with per-object size, pose, colour and texture jitter. */
function object(rng: SeededRng, size: number, classIndex: number, set: ClassSet): Drawable {
  const def = set.classes[classIndex - 1];
  const shape = def.shape;
  return {
    cx: rng.uniform(0.1, 0.9) * size,
    cy: rng.uniform(0.1, 0.9) * size,
    radius: rng.uniform(0.11, 0.26) * size,
    angle: rng.uniform(0, 2 * Math.PI),
    aspect: rng.uniform(0.85, 1.18),
    inside: (u, v) => insideShape(shape, u, v),
    colour: jitterColour(rng, set.colours[def.colour]),
    texture: { kind: def.texture, frequency: rng.uniform(3, 5.5), angle: rng.uniform(0, Math.PI) },
    label: classIndex,
  };
}

/**
 * The classes of one scene: a main class drawn uniformly, then companions,
 * mostly from the main class's scene group (co-occurrence).
 */
function sceneClasses(rng: SeededRng, classCount: number): number[] {
  const main = rng.int(1, classCount);
  const count = rng.pick([1, 2, 2, 3, 3, 4]);
  const classes = [main];
  while (classes.length < count) {
    classes.push(
      rng.chance(0.75) ? rng.pick(sceneGroupOf(main)) : rng.int(1, classCount),
    );
  }
  // Random drawing order: the main class is not always on top.
  return rng.shuffle(classes);
}

/** Replaces the object side of every object/other boundary with 255. */
function markVoidBorders(size: number, labels: Uint8Array): void {
  const source = labels.slice();
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      const l = source[p];
      if (l === 0) continue;
      const differs = (x > 0 && source[p - 1] !== l) || (x < size - 1 && source[p + 1] !== l) ||
        (y > 0 && source[p - size] !== l) || (y < size - 1 && source[p + size] !== l);
      if (differs) labels[p] = 255;
    }
  }
}

/** A cheap bell-shaped sample (sum of three uniforms, variance 1): noise need not be exactly Gaussian. */
const approxNormal = (rng: SeededRng): number =>
  (rng.float() + rng.float() + rng.float() - 1.5) * 2;

/** Renders a scene; the same RNG state always gives the same bytes. */
export function renderScene(rng: SeededRng, options: RenderOptions): Scene {
  const { size } = options;
  const set = options.classSet ?? BENCHMARK_CLASS_SET;
  const canvas = new Float32Array(size * size * 3);
  const labels = new Uint8Array(size * size);
  paintBackground(rng, size, canvas);
  const distractors = rng.int(2, 5);
  for (let i = 0; i < distractors; i++) draw(distractor(rng, size, set), size, canvas, labels);
  for (const c of sceneClasses(rng, set.classes.length)) {
    draw(object(rng, size, c, set), size, canvas, labels);
  }
  // A distractor in front of an object occludes it without being an object.
  if (rng.chance(0.3)) draw(distractor(rng, size, set), size, canvas, labels);
  if (options.voidBorder) markVoidBorders(size, labels);
  const gain = rng.uniform(0.75, 1.2);
  const bias = rng.uniform(-15, 15);
  const noise = rng.uniform(4, 12);
  const rgb = new Uint8Array(size * size * 3);
  for (let i = 0; i < rgb.length; i++) {
    rgb[i] = clampByte(canvas[i] * gain + bias + noise * approxNormal(rng));
  }
  return { size, rgb, labels };
}
