import { deepStrictEqual as assertEquals } from "node:assert/strict";
import fc from "fast-check";
import { closest, editDistance } from "../../src/cli/suggest.ts";
import { TRAIN_OPTIONS } from "../../src/cli/train_spec.ts";

/** Plain Levenshtein distance plus adjacent swaps, by exhaustive recursion (tiny strings only). */
const reference = (a: string, b: string): number => {
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  const options = [
    reference(a.slice(1), b) + 1,
    reference(a, b.slice(1)) + 1,
    reference(a.slice(1), b.slice(1)) + (a[0] === b[0] ? 0 : 1),
  ];
  if (a.length > 1 && b.length > 1 && a[0] === b[1] && a[1] === b[0]) {
    options.push(reference(a.slice(2), b.slice(2)) + 1);
  }
  return Math.min(...options);
};

Deno.test("edit distance matches the recursive definition", () => {
  const word = fc.string({ unit: fc.constantFrom("a", "b", "c"), maxLength: 5 });
  fc.assert(
    fc.property(word, word, (a, b) => {
      assertEquals(editDistance(a, b), reference(a, b));
      assertEquals(editDistance(a, b), editDistance(b, a));
    }),
    { seed: 42, numRuns: 300 },
  );
  assertEquals(editDistance("trian", "train"), 1);
  assertEquals(editDistance("kitten", "sitting"), 3);
});

Deno.test("one typo in any train option suggests that option", () => {
  const names = TRAIN_OPTIONS.map((s) => `--${s.name}`);
  const option = fc.constantFrom(...TRAIN_OPTIONS.map((s) => s.name).filter((n) => n.length >= 6));
  fc.assert(
    fc.property(option, fc.nat(), fc.constantFrom("x", "q", "z"), (name, at, letter) => {
      const i = at % name.length;
      const typo = `--${name.slice(0, i)}${letter}${name.slice(i + 1)}`;
      const guess = closest(typo, names);
      // Another option may be just as close (e.g. --epochs and --epochs-next); never a far one.
      if (guess === undefined) throw new Error(`no suggestion for ${typo}`);
      assertEquals(editDistance(typo, guess) <= editDistance(typo, `--${name}`), true);
    }),
    { seed: 42, numRuns: 200 },
  );
  assertEquals(closest("--lr", ["--seed", "--out"]), undefined);
  assertEquals(closest("--epo", names), "--epochs");
});
