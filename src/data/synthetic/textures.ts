/**
 * Surface patterns of the synthetic objects, evaluated in the object's frame.
 *
 * @module
 */
import type { Rgb, TextureKind } from "./classes.ts";

/** Per-object texture parameters (frequency and direction vary per object). */
export interface TextureParams {
  readonly kind: TextureKind;
  /** Pattern repetitions across the object. */
  readonly frequency: number;
  /** Stripe direction / gradient direction, radians. */
  readonly angle: number;
}

const mix = (a: number, b: number, t: number): number => a + (b - a) * t;

/** The colour of the object at (u, v), written into `out`. */
export function textureColour(
  base: Rgb,
  params: TextureParams,
  u: number,
  v: number,
  out: number[],
): void {
  const along = u * Math.cos(params.angle) + v * Math.sin(params.angle);
  let towardDark = 0;
  let towardLight = 0;
  switch (params.kind) {
    case "solid":
      // A soft shading so solid objects are not flat.
      towardDark = 0.12 * (along + 1) * 0.5;
      break;
    case "stripes":
      towardDark = Math.sin(along * params.frequency * Math.PI) > 0 ? 0 : 0.55;
      break;
    case "dots": {
      const fu = ((u + 1) * params.frequency) / 2;
      const fv = ((v + 1) * params.frequency) / 2;
      const du = fu - Math.floor(fu) - 0.5;
      const dv = fv - Math.floor(fv) - 0.5;
      towardLight = du * du + dv * dv < 0.08 ? 0.65 : 0;
      break;
    }
    case "checker": {
      const cell = Math.floor(((u + 1) * params.frequency) / 2) +
        Math.floor(((v + 1) * params.frequency) / 2);
      towardLight = (cell & 1) === 0 ? 0 : 0.5;
      break;
    }
    case "gradient":
      towardDark = 0.7 * (along + 1) * 0.5;
      break;
    case "waves":
      // Soft sinusoidal bands (stripes have hard edges).
      towardDark = 0.3 * (1 + Math.sin(along * params.frequency * Math.PI));
      break;
    case "grid": {
      // Thin light lines on a cell lattice (checker fills whole cells).
      const fu = ((u + 1) * params.frequency) / 2;
      const fv = ((v + 1) * params.frequency) / 2;
      const line = Math.min(fu - Math.floor(fu), fv - Math.floor(fv)) < 0.18;
      towardLight = line ? 0.6 : 0;
      break;
    }
    case "rings": {
      const r = Math.sqrt(u * u + v * v) * params.frequency;
      towardDark = r - Math.floor(r) < 0.45 ? 0.5 : 0;
      break;
    }
  }
  for (let k = 0; k < 3; k++) {
    const dark = mix(base[k], base[k] * 0.25, towardDark);
    out[k] = mix(dark, 255, towardLight);
  }
}
