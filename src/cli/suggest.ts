/**
 * "Did you mean" for mistyped options, commands and names: the closest
 * candidate by edit distance, when it is close enough to be a typo.
 *
 * @module
 */

/**
 * Edit distance counting insertions, deletions, substitutions and swaps of
 * two neighbouring characters as 1 each (optimal string alignment), since a
 * swap (`trian`) is the commonest typo.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from(
    { length: a.length + 1 },
    (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

const bare = (name: string) => name.replace(/^-+/, "");

/**
 * The candidate nearest to `input`, or undefined when none is within a third
 * of the input's length (at least 1 edit): suggesting `--lr` for `--seed`
 * would confuse more than help. Leading dashes are ignored, and a candidate
 * the input abbreviates (3 characters or more) counts as nearest.
 */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  const word = bare(input);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const other = bare(candidate);
    const distance = word.length >= 3 && other.startsWith(word) && other !== word
      ? 0.5
      : editDistance(word, other);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}
