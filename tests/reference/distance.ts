/**
 * Float64 references for the per-pixel distances and L2-normalisation over
 * channels (src/ops/distance.ts). Data is [pixels, channels] row-major.
 *
 * @module
 */
import type { ReductionName } from "./loss.ts";

/** Distance names, as in src/ops/distance.ts. */
export type DistanceName = "l2Squared" | "l2" | "cosine";

const norm = (x: ArrayLike<number>, base: number, c: number) => {
  let s = 0;
  for (let k = 0; k < c; k++) s += x[base + k] * x[base + k];
  return Math.sqrt(s);
};

/** Distance of one pixel. */
const pixelDistance = (
  kind: DistanceName,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  base: number,
  c: number,
  eps: number,
) => {
  if (kind === "cosine") {
    let ab = 0;
    for (let k = 0; k < c; k++) ab += a[base + k] * b[base + k];
    return 1 - ab / (Math.max(norm(a, base, c), eps) * Math.max(norm(b, base, c), eps));
  }
  let s = 0;
  for (let k = 0; k < c; k++) s += (a[base + k] - b[base + k]) ** 2;
  return kind === "l2" ? Math.sqrt(s) : s;
};

/** Per-pixel distances, reduced (mean over pixels by default). */
export const distanceReference = (
  kind: DistanceName,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  channels: number,
  reduction: ReductionName = "mean",
  eps = 1e-8,
): number[] => {
  const map: number[] = [];
  for (let base = 0; base < a.length; base += channels) {
    map.push(pixelDistance(kind, a, b, base, channels, eps));
  }
  if (reduction === "none") return map;
  const sum = map.reduce((x, y) => x + y, 0);
  return [reduction === "sum" ? sum : sum / map.length];
};

/** Analytic gradients of {@link distanceReference} for upstream gradient g. */
export const distanceBackwardReference = (
  kind: DistanceName,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  channels: number,
  g: ArrayLike<number>,
  reduction: ReductionName = "mean",
  eps = 1e-8,
): { a: number[]; b: number[] } => {
  const pixels = a.length / channels;
  const da: number[] = [];
  const db: number[] = [];
  for (let p = 0; p < pixels; p++) {
    const base = p * channels;
    const u = reduction === "none" ? g[p] : reduction === "sum" ? g[0] : g[0] / pixels;
    if (kind === "cosine") {
      const la = norm(a, base, channels);
      const lb = norm(b, base, channels);
      const na = Math.max(la, eps);
      const nb = Math.max(lb, eps);
      const cos = 1 - pixelDistance("cosine", a, b, base, channels, eps);
      for (let k = 0; k < channels; k++) {
        const x = a[base + k];
        const y = b[base + k];
        da.push(-u * (y / (na * nb) - (la > eps ? (cos * x) / (na * na) : 0)));
        db.push(-u * (x / (na * nb) - (lb > eps ? (cos * y) / (nb * nb) : 0)));
      }
      continue;
    }
    const d = pixelDistance("l2", a, b, base, channels, eps);
    const scale = kind === "l2Squared" ? 2 * u : d === 0 ? 0 : u / d;
    for (let k = 0; k < channels; k++) {
      const v = scale * (a[base + k] - b[base + k]);
      da.push(v);
      db.push(-v);
    }
  }
  return { a: da, b: db };
};

/** a / max(|a|, eps) per pixel. */
export const l2NormalizeReference = (
  a: ArrayLike<number>,
  channels: number,
  eps = 1e-8,
): number[] => {
  const out: number[] = [];
  for (let base = 0; base < a.length; base += channels) {
    const n = Math.max(norm(a, base, channels), eps);
    for (let k = 0; k < channels; k++) out.push(a[base + k] / n);
  }
  return out;
};

/** Gradient of {@link l2NormalizeReference}: (g - y <y, g>) / |a|, or g / eps below eps. */
export const l2NormalizeBackwardReference = (
  a: ArrayLike<number>,
  g: ArrayLike<number>,
  channels: number,
  eps = 1e-8,
): number[] => {
  const out: number[] = [];
  for (let base = 0; base < a.length; base += channels) {
    const n = norm(a, base, channels);
    if (n <= eps) {
      for (let k = 0; k < channels; k++) out.push(g[base + k] / eps);
      continue;
    }
    let yg = 0;
    for (let k = 0; k < channels; k++) yg += (a[base + k] / n) * g[base + k];
    for (let k = 0; k < channels; k++) out.push((g[base + k] - (a[base + k] / n) * yg) / n);
  }
  return out;
};
