/**
 * Single-operator mutants of a source file (WGSL or TypeScript): the
 * arithmetic, comparison and index mutations a mutation score counts. Each
 * mutant changes one place on one line; comments and strings are left alone.
 *
 * @module
 */

/** One mutant: the line it changes and the text that replaces it. */
export interface Mutant {
  /** Path of the file, relative to the repository root. */
  readonly file: string;
  /** 1-based line number. */
  readonly line: number;
  /** The operator applied, e.g. "+ -> -". */
  readonly operator: string;
  /** The original line. */
  readonly before: string;
  /** The mutated line ("" for a dropped statement). */
  readonly after: string;
}

interface Rule {
  readonly name: string;
  readonly pattern: RegExp;
  readonly replace: (match: RegExpExecArray) => string;
  readonly wgslOnly?: boolean;
}

// Binary operators are matched with a space on each side, as `deno fmt` and
// the shaders write them, which keeps unary minus, generics (`array<f32>`)
// and `->` out of the way.
const swap = (from: string, to: string): Rule => ({
  name: `${from} -> ${to}`,
  pattern: new RegExp(` ${from.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} `, "g"),
  replace: () => ` ${to} `,
});

const RULES: readonly Rule[] = [
  swap("+", "-"),
  swap("-", "+"),
  swap("*", "/"),
  swap("/", "*"),
  swap("<", "<="),
  swap("<=", "<"),
  swap(">", ">="),
  swap(">=", ">"),
  swap("==", "!="),
  swap("!=", "=="),
  swap("&&", "||"),
  swap("||", "&&"),
  swap("+=", "-="),
  swap("-=", "+="),
  {
    name: "index + 1",
    // An array index that is a plain expression: a[i] -> a[i + 1].
    pattern: /\b([A-Za-z_][A-Za-z0-9_]*)\[([^\[\]]+)\]/g,
    replace: (m) => `${m[1]}[${m[2]} + 1]`,
    wgslOnly: true,
  },
];

/** A statement that adds a term into an accumulator: dropping it drops the term. */
const DROPPABLE = /^\s*[A-Za-z_][A-Za-z0-9_.\[\]]*\s*(\+=|-=)\s*[^;]+;\s*$/;

/** The code part of a line: without a trailing `//` comment; undefined for comment lines. */
const codeOf = (line: string): string | undefined => {
  const trimmed = line.trim();
  if (
    trimmed === "" || trimmed.startsWith("//") || trimmed.startsWith("*") ||
    trimmed.startsWith("/*") || trimmed.startsWith("import ") || trimmed.startsWith("export {")
  ) {
    return undefined;
  }
  const comment = line.indexOf("//");
  return comment >= 0 ? line.slice(0, comment) : line;
};

/** Whether a match position lies inside a string literal (TypeScript lines). */
const inString = (code: string, at: number): boolean => {
  let quote: string | undefined;
  for (let i = 0; i < at; i++) {
    const c = code[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'" || c === "`") quote = c;
  }
  return quote !== undefined;
};

/** Every single-operator mutant of `text` (a file's contents). */
export const mutantsOf = (file: string, text: string): Mutant[] => {
  const wgsl = file.endsWith(".wgsl");
  const out: Mutant[] = [];
  const lines = text.split("\n");
  let inBlockComment = false;
  let inContract = false;
  lines.forEach((line, index) => {
    // A kernel's `minElements` declares the smallest bindings the recorder
    // accepts before a dispatch: a contract, checked in tests/gpu, not the
    // kernel's arithmetic, so it is not mutated.
    if (!wgsl && (inContract || /^\s*minElements:/.test(line))) {
      inContract = !/^\s*minElements:.*\),\s*$/.test(line) && !/^\s*\}\),?\s*$/.test(line);
      return;
    }
    if (inBlockComment) {
      if (line.includes("*/")) inBlockComment = false;
      return;
    }
    if (line.trim().startsWith("/*") && !line.includes("*/")) {
      inBlockComment = true;
      return;
    }
    const code = codeOf(line);
    if (code === undefined) return;
    const add = (operator: string, after: string) =>
      out.push({ file, line: index + 1, operator, before: line, after });
    for (const rule of RULES) {
      if (rule.wgslOnly && !wgsl) continue;
      for (const m of code.matchAll(rule.pattern)) {
        const at = m.index ?? 0;
        if (!wgsl && inString(code, at)) continue;
        const replaced = rule.replace(m as RegExpExecArray);
        add(rule.name, line.slice(0, at) + replaced + line.slice(at + m[0].length));
      }
    }
    if (DROPPABLE.test(code)) add("drop term", "");
  });
  return out;
};

/** Applies a mutant to the file's text. */
export const applyMutant = (text: string, mutant: Mutant): string => {
  const lines = text.split("\n");
  if (lines[mutant.line - 1] !== mutant.before) {
    throw new Error(`${mutant.file}:${mutant.line} changed since the mutants were listed`);
  }
  lines[mutant.line - 1] = mutant.after;
  return lines.join("\n");
};

/** A deterministic sample of `count` items (a seeded Fisher-Yates prefix, in input order). */
export const sample = <T>(items: readonly T[], count: number, seed: number): T[] => {
  if (count >= items.length) return [...items];
  const index = items.map((_, i) => i);
  let state = (seed >>> 0) || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(next() * (index.length - i));
    [index[i], index[j]] = [index[j], index[i]];
  }
  return index.slice(0, count).sort((a, b) => a - b).map((i) => items[i]);
};
