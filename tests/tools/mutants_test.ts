/** The mutation tool's mutant generator: what it mutates, what it leaves alone. */
import { applyMutant, mutantsOf, sample } from "../../tools/mutate/mutants.ts";

const WGSL = [
  "// a + b in a comment stays",
  "fn main() {",
  "  let v = a[i] + b * c;",
  "  if (i < n) { acc += x[i]; }",
  "  let t: array<f32, 4>;",
  "}",
].join("\n");

Deno.test("mutants: one operator per mutant, comments and generics untouched", () => {
  const mutants = mutantsOf("k.wgsl", WGSL);
  const got = mutants.map((m) => `${m.line}:${m.operator}:${m.after.trim()}`).sort();
  const expected = [
    "3:+ -> -:let v = a[i] - b * c;",
    "3:* -> /:let v = a[i] + b / c;",
    "3:index + 1:let v = a[i + 1] + b * c;",
    "4:< -> <=:if (i <= n) { acc += x[i]; }",
    "4:+= -> -=:if (i < n) { acc -= x[i]; }",
    "4:index + 1:if (i < n) { acc += x[i + 1]; }",
  ].sort();
  if (JSON.stringify(got) !== JSON.stringify(expected)) {
    throw new Error(`mutants:\n${got.join("\n")}`);
  }
  for (const m of mutants) {
    const text = applyMutant(WGSL, m);
    const changed = text.split("\n").filter((l, i) => l !== WGSL.split("\n")[i]);
    if (changed.length !== 1) throw new Error(`${m.operator} changed ${changed.length} lines`);
  }
});

Deno.test("mutants: a += statement can be dropped; strings in TypeScript are left alone", () => {
  const ts = ['const label = "a + b";', "  total += term;", "const y = x - 1;"].join("\n");
  const mutants = mutantsOf("m.ts", ts);
  const got = mutants.map((m) => `${m.line}:${m.operator}`).sort();
  const expected = ["2:+= -> -=", "2:drop term", "3:- -> +"];
  if (JSON.stringify(got) !== JSON.stringify(expected)) throw new Error(`${got}`);
});

Deno.test("mutants: the sample is deterministic, of the asked size, in input order", () => {
  const items = Array.from({ length: 100 }, (_, i) => i);
  const a = sample(items, 10, 7);
  const b = sample(items, 10, 7);
  const c = sample(items, 10, 8);
  if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error("not deterministic");
  if (JSON.stringify(a) === JSON.stringify(c)) throw new Error("the seed changes nothing");
  if (a.length !== 10 || new Set(a).size !== 10) throw new Error(`${a}`);
  if (a.some((v, i) => i > 0 && v <= a[i - 1])) throw new Error(`not in order: ${a}`);
});

Deno.test("mutants: a kernel's minElements contract is not mutated, the code after it is", () => {
  const ts = [
    "  minElements: ({ n }) => ({ out: n * 2 }),",
    "  const a = b + c;",
    "  minElements: ({ pixels, channels }) => ({",
    "    x: pixels * channels,",
    "  }),",
    "  const d = e - f;",
  ].join("\n");
  const got = mutantsOf("k.ts", ts).map((m) => `${m.line}:${m.operator}`);
  if (JSON.stringify(got) !== JSON.stringify(["2:+ -> -", "6:- -> +"])) throw new Error(`${got}`);
});
