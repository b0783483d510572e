/**
 * What `gsc eval` tells of a confusion matrix beyond the IoUs: the matrix
 * itself as CSV (pixels; rows = ground truth, columns = prediction, over the
 * seen classes) and, per class, where its pixels went: the share predicted
 * right and the classes that took the largest shares of the rest. This is how
 * a reader sees which class swallowed a forgotten one (an old class eaten by
 * background or by a new look-alike).
 *
 * @module
 */

/** Where one class's ground-truth pixels were predicted. */
export interface ClassConfusion {
  readonly label: number;
  /** Ground-truth pixels of the class. */
  readonly pixels: number;
  /** Share of them predicted as the class (recall). */
  readonly correct: number;
  /** The other classes that took the largest shares, largest first (ties: lower class first). */
  readonly taken: readonly { readonly as: number; readonly share: number }[];
}

const checkSize = (matrix: ArrayLike<number>, k: number) => {
  if (matrix.length !== k * k) {
    throw new RangeError(`confusion matrix has ${matrix.length} cells, expected ${k * k}`);
  }
};

/**
 * The matrix restricted to `seen` as CSV: a header `label,0,1,...` then one
 * row per seen class of its pixels predicted as each seen class.
 */
export const confusionCsv = (
  matrix: ArrayLike<number>,
  k: number,
  seen: readonly number[],
): string => {
  checkSize(matrix, k);
  const lines = [["label", ...seen].join(",")];
  for (const c of seen) lines.push([c, ...seen.map((j) => matrix[c * k + j])].join(","));
  return lines.join("\n") + "\n";
};

/**
 * Per seen class with ground truth: its recall and the `count` other classes
 * (any of the K) that took the largest non-zero shares of its pixels.
 */
export const classConfusions = (
  matrix: ArrayLike<number>,
  k: number,
  seen: readonly number[],
  count: number,
): ClassConfusion[] => {
  checkSize(matrix, k);
  const out: ClassConfusion[] = [];
  for (const c of seen) {
    let pixels = 0;
    for (let j = 0; j < k; j++) pixels += matrix[c * k + j];
    if (pixels === 0) continue;
    const others: { as: number; share: number }[] = [];
    for (let j = 0; j < k; j++) {
      if (j !== c && matrix[c * k + j] > 0) {
        others.push({ as: j, share: matrix[c * k + j] / pixels });
      }
    }
    others.sort((a, b) => b.share - a.share || a.as - b.as);
    out.push({
      label: c,
      pixels,
      correct: matrix[c * k + c] / pixels,
      taken: others.slice(0, count),
    });
  }
  return out;
};

const pct = (share: number) => `${(share * 100).toFixed(1)} %`;

/** One line per class: `class 6: 12.0 % right; as 16 61.2 %, as 0 20.3 %`. */
export const confusionLines = (confusions: readonly ClassConfusion[]): string[] =>
  confusions.map((c) =>
    `class ${c.label}: ${pct(c.correct)} right` +
    (c.taken.length === 0 ? "" : `; ${c.taken.map((t) => `as ${t.as} ${pct(t.share)}`).join(", ")}`)
  );
