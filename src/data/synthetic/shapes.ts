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
  }
}
