/**
 * Label remapping through 256-entry lookup tables: the training targets of an
 * incremental step and the evaluation labels, both derived from the task's
 * class lists. A remap is one table lookup per pixel, never a branch chain.
 *
 * @module
 */
import { IGNORE_LABEL } from "./classes.ts";

/** A 256-entry table: `lut[raw]` is the new label. */
export type LabelLut = Uint8Array;

/** Applies a LUT to a label buffer; writes into `out` when given (may be the input). */
export function applyLut(
  labels: Uint8Array,
  lut: LabelLut,
  out: Uint8Array = new Uint8Array(labels.length),
): Uint8Array {
  for (let i = 0; i < labels.length; i++) out[i] = lut[labels[i]];
  return out;
}

/** The LUT equal to applying `first`, then `second`. */
export function composeLuts(first: LabelLut, second: LabelLut): LabelLut {
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) lut[v] = second[first[v]];
  return lut;
}

/** The class lists of one step, as the step engine needs them. */
export interface StepClasses {
  /** Classes learned at this step (0 is counted only at step 0). */
  readonly current: readonly number[];
  /** Classes of earlier steps (0 included after step 0). */
  readonly old: readonly number[];
}

/**
 * Training targets at a step: current classes keep their index, every other
 * class (old and future) becomes 0 (background shift), 255 stays 255.
 */
export function trainTargetLut(step: StepClasses): LabelLut {
  const lut = new Uint8Array(256);
  for (const c of step.current) lut[c] = c;
  lut[IGNORE_LABEL] = IGNORE_LABEL;
  return lut;
}

/**
 * Evaluation labels after a step: seen classes (old + current) keep their
 * index, classes not yet seen become 255. With `zeroIgnored` (ADE20K's
 * "other"), 0 becomes 255 too.
 */
export function evalLut(step: StepClasses, zeroIgnored = false): LabelLut {
  const lut = new Uint8Array(256).fill(IGNORE_LABEL);
  for (const c of [...step.old, ...step.current]) lut[c] = c;
  lut[0] = zeroIgnored ? IGNORE_LABEL : 0;
  return lut;
}
