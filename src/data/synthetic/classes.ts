/**
 * The synthetic benchmark's 20 object classes. Each is a (shape, colour,
 * texture) triple chosen so that classes share parts of their look: same
 * shape with another colour (aeroplane/bicycle), same shape and colour with
 * another texture (bird/boat), neighbouring colours (ring yellow/orange).
 * A net must combine cues, which gives real inter-class relations.
 *
 * @module
 */

/** Shapes an object can take; each is a region of the unit square [-1,1]^2. */
export type ShapeKind =
  | "disc"
  | "square"
  | "triangle"
  | "ring"
  | "cross"
  | "star"
  | "ellipse"
  | "diamond"
  | "hexagon"
  // The pretraining corpus's shapes (pretrain_classes.ts): none is a benchmark class's shape.
  | "pentagon"
  | "crescent"
  | "arrow"
  | "trapezoid"
  | "semicircle"
  | "lshape"
  | "teardrop";

/** Surface patterns, drawn in the object's own frame so they rotate with it. */
export type TextureKind =
  | "solid"
  | "stripes"
  | "dots"
  | "checker"
  | "gradient"
  // The pretraining corpus's textures: none is a benchmark class's texture.
  | "waves"
  | "grid"
  | "rings";

/** A base colour (RGB 0..255) that each object jitters a little. */
export type Rgb = readonly [number, number, number];

/**
 * The base colours of the pretraining corpus (pretrain_classes.ts), none of
 * them a benchmark colour. Kept apart from {@link COLOURS}, which distractors
 * also draw from, so the benchmark's images stay as they are.
 */
export const PRETRAIN_COLOURS: Readonly<Record<string, Rgb>> = {
  pink: [235, 130, 175],
  brown: [125, 80, 45],
  lime: [165, 220, 60],
  teal: [25, 120, 115],
  navy: [30, 35, 110],
  magenta: [215, 45, 160],
  olive: [120, 125, 40],
};

/** Named base colours; pairs such as red/orange and blue/purple are close on purpose. */
export const COLOURS: Readonly<Record<string, Rgb>> = {
  red: [200, 40, 40],
  orange: [225, 125, 35],
  yellow: [220, 200, 45],
  green: [45, 160, 65],
  cyan: [45, 185, 200],
  blue: [45, 75, 200],
  purple: [140, 55, 170],
};

/** What an object of a class looks like. */
export interface SyntheticClass {
  readonly index: number;
  readonly shape: ShapeKind;
  /** A key of {@link COLOURS} (benchmark) or {@link PRETRAIN_COLOURS} (pretraining corpus). */
  readonly colour: string;
  readonly texture: TextureKind;
}

const define = (
  index: number,
  shape: ShapeKind,
  colour: string,
  texture: TextureKind,
): SyntheticClass => ({
  index,
  shape,
  colour,
  texture,
});

/** Classes 1..20 (index 0 is background); `SYNTHETIC_CLASSES[c - 1].index === c`. */
export const SYNTHETIC_CLASSES: readonly SyntheticClass[] = [
  define(1, "disc", "red", "solid"),
  define(2, "disc", "blue", "solid"),
  define(3, "square", "red", "stripes"),
  define(4, "square", "red", "checker"),
  define(5, "triangle", "green", "solid"),
  define(6, "triangle", "green", "dots"),
  define(7, "ring", "yellow", "solid"),
  define(8, "ring", "orange", "solid"),
  define(9, "cross", "blue", "stripes"),
  define(10, "cross", "purple", "stripes"),
  define(11, "star", "yellow", "dots"),
  define(12, "star", "cyan", "dots"),
  define(13, "ellipse", "green", "gradient"),
  define(14, "ellipse", "green", "stripes"),
  define(15, "diamond", "orange", "checker"),
  define(16, "diamond", "red", "checker"),
  define(17, "hexagon", "cyan", "solid"),
  define(18, "hexagon", "blue", "gradient"),
  define(19, "disc", "purple", "checker"),
  define(20, "square", "cyan", "dots"),
];

/**
 * Scene groups: classes that tend to appear together. Each group mixes early
 * and late class indices ({1,6,11,16}, {2,7,12,17}, ...), so images of a later
 * step's classes often contain earlier classes: the background shift of the
 * overlapped setting is real.
 */
export const SCENE_GROUPS: readonly (readonly number[])[] = [0, 1, 2, 3, 4].map((g) =>
  SYNTHETIC_CLASSES.filter((c) => (c.index - 1) % 5 === g).map((c) => c.index)
);

/** The scene group of a class. */
export function sceneGroupOf(classIndex: number): readonly number[] {
  return SCENE_GROUPS[(classIndex - 1) % 5];
}

/** A set of 20 object classes and the palette their colours come from. */
export interface ClassSet {
  readonly classes: readonly SyntheticClass[];
  /** Base colours of the classes; saturated distractors draw from them too. */
  readonly colours: Readonly<Record<string, Rgb>>;
  /** Textures a distractor may wear. */
  readonly textures: readonly TextureKind[];
}

/** The benchmark's class set. */
export const BENCHMARK_CLASS_SET: ClassSet = {
  classes: SYNTHETIC_CLASSES,
  colours: COLOURS,
  textures: ["solid", "stripes", "dots", "checker", "gradient"],
};
