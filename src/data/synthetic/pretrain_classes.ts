/**
 * The pretraining corpus's 20 classes: what ImageNet is to VOC. Every class is
 * a (shape, colour, texture) triple built only from shapes, colours and
 * textures that no benchmark class uses (classes.ts), with the same kinds of
 * look-alikes (same shape and texture in another colour, same shape and colour
 * with another texture, near colours: pink/magenta, lime/olive, teal/navy).
 * A backbone trained to segment them learns objectness, edges, colours and
 * textures, never a benchmark class.
 *
 * @module
 */
import { type ClassSet, PRETRAIN_COLOURS, type SyntheticClass } from "./classes.ts";

const triples: readonly (readonly [SyntheticClass["shape"], string, SyntheticClass["texture"]])[] =
  [
    ["pentagon", "pink", "waves"],
    ["pentagon", "teal", "waves"],
    ["crescent", "brown", "grid"],
    ["crescent", "brown", "rings"],
    ["arrow", "lime", "waves"],
    ["arrow", "lime", "grid"],
    ["trapezoid", "magenta", "rings"],
    ["trapezoid", "pink", "rings"],
    ["semicircle", "navy", "grid"],
    ["semicircle", "teal", "grid"],
    ["lshape", "olive", "waves"],
    ["lshape", "lime", "rings"],
    ["teardrop", "magenta", "grid"],
    ["teardrop", "magenta", "waves"],
    ["pentagon", "navy", "rings"],
    ["crescent", "olive", "waves"],
    ["arrow", "brown", "rings"],
    ["trapezoid", "teal", "grid"],
    ["semicircle", "pink", "waves"],
    ["lshape", "navy", "grid"],
  ];

/** Classes 1..20 of the pretraining corpus (index 0 is background). */
export const PRETRAIN_CLASSES: readonly SyntheticClass[] = triples.map((
  [shape, colour, texture],
  i,
) => ({ index: i + 1, shape, colour, texture }));

/** The pretraining corpus's class set. */
export const PRETRAIN_CLASS_SET: ClassSet = {
  classes: PRETRAIN_CLASSES,
  colours: PRETRAIN_COLOURS,
  textures: ["solid", "waves", "grid", "rings"],
};
