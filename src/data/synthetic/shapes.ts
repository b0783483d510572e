/**
 * Membership tests of the synthetic shapes in the object's own frame: (u, v)
 * in [-1, 1]^2 after rotation and scaling; true when the point is inside.
 *
 * @module
 */
import type { ShapeKind } from "./classes.ts";

const SQRT3_2 = Math.sqrt(3) / 2;

/** Whether (u, v) lies inside the shape. */
export function insideShape(shape: ShapeKind, u: number, v: number): boolean {
  const au = Math.abs(u);
  const av = Math.abs(v);
  switch (shape) {
    case "disc":
      return u * u + v * v <= 1;
    case "ellipse":
      return u * u + (v * v) / 0.36 <= 1;
    case "ring": {
      const r2 = u * u + v * v;
      return r2 <= 1 && r2 >= 0.3;
    }
    case "square":
      return au <= 0.8 && av <= 0.8;
    case "diamond":
      return au + av <= 1;
    case "triangle":
      // Apex at v = -0.95, base at v = 0.8.
      return v <= 0.8 && v >= -0.95 && au <= ((v + 0.95) / 1.75) * 0.95;
    case "cross":
      return (au <= 0.3 && av <= 0.95) || (av <= 0.3 && au <= 0.95);
    case "star": {
      const r = Math.sqrt(u * u + v * v);
      const theta = Math.atan2(v, u);
      return r <= 0.55 + 0.4 * Math.cos(5 * theta);
    }
    case "hexagon":
      return av <= 0.9 * SQRT3_2 && SQRT3_2 * av + 0.5 * au <= 0.9 * SQRT3_2;
    case "pentagon": {
      // Regular pentagon of circumradius 0.95: inside all five edge half-planes.
      const apothem = 0.95 * Math.cos(Math.PI / 5);
      for (let k = 0; k < 5; k++) {
        const a = -Math.PI / 2 + (2 * Math.PI * (k + 0.5)) / 5;
        if (u * Math.cos(a) + v * Math.sin(a) > apothem) return false;
      }
      return true;
    }
    case "crescent":
      return u * u + v * v <= 0.9 && (u - 0.45) ** 2 + v * v > 0.5;
    case "arrow":
      // A shaft along u and a triangular head pointing to +u.
      return (u >= -0.95 && u <= 0.15 && av <= 0.25) || (u > 0.15 && u <= 0.95 && av <= 0.95 - u);
    case "trapezoid":
      return av <= 0.65 && au <= 0.55 + 0.4 * ((v + 0.65) / 1.3);
    case "semicircle":
      return v <= 0.35 && u * u + (v - 0.35) ** 2 <= 0.95;
    case "lshape":
      return u >= -0.85 && u <= 0.85 && v >= -0.85 && v <= 0.85 && (u <= -0.2 || v >= 0.2);
    case "teardrop": {
      // A disc at v = 0.3 and a cone up to a tip at v = -0.95.
      const inDisc = u * u + (v - 0.3) ** 2 <= 0.42;
      return inDisc || (v >= -0.95 && v <= 0.3 && au <= ((v + 0.95) / 1.25) * 0.65);
    }
  }
}
