/**
 * The Pascal VOC colour palette: entry `i` is the RGB colour that VOC's
 * palette PNG masks show for class index `i` (255, the void label, is the
 * cream outline colour). Masks store indices, so the palette is only for display.
 *
 * @module
 */

/** Builds VOC's 256-entry palette with its bit-interleaving rule. */
export function vocPalette(): [number, number, number][] {
  const palette: [number, number, number][] = [];
  for (let index = 0; index < 256; index++) {
    let r = 0, g = 0, b = 0, c = index;
    // VOC spreads the bits of the index over the high bits of the three channels.
    for (let shift = 7; shift >= 0; shift--) {
      r |= (c & 1) << shift;
      g |= ((c >> 1) & 1) << shift;
      b |= ((c >> 2) & 1) << shift;
      c >>= 3;
    }
    palette.push([r, g, b]);
  }
  return palette;
}

/** The VOC palette, computed once. */
export const VOC_PALETTE: readonly (readonly [number, number, number])[] = vocPalette();
