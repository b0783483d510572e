/**
 * `deno task mutate`: the mutation score of the test suite over the WGSL
 * programs and the loss and method sources. Each mutant changes one operator
 * (`+`/`-`, `<`/`<=`, `==`/`!=`, an index offset by one, a dropped `+=` term;
 * see `mutants.ts`) in a scratch copy of the committed tree (`HEAD`); the tests whose
 * import graph reaches the mutated file run against it (poisoned pool on,
 * grids folded small, first failure ends the run). A mutant the tests fail on is killed; one they
 * pass survives; one that no longer compiles (a WGSL type error) is stillborn
 * and left out of the score. Not part of CI: it runs for tens of minutes.
 *
 * Options: `--max N` mutants in all (default 150, a seeded sample spread over
 * the files), `--seed S`, `--only SUBSTRING` (files whose path contains it),
 * `--timeout SECONDS` per mutant (default 240), `--out PATH` (default
 * `results/mutation.md`, with a `.json` beside it), `--survivors REPORT.json`
 * (run again only the mutants that survived in that report).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { applyMutant, type Mutant, mutantsOf, sample } from "./mutants.ts";
import { coveringTests, headCommit, scratchCopy, targetFiles } from "./workspace.ts";
import { type Outcome, writeReport } from "./report.ts";

/** Test files run first for a mutant (the closest); the others run only if these pass. */
const FIRST_STAGE = 2;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    max: { type: "string", default: "150" },
    seed: { type: "string", default: "1" },
    only: { type: "string" },
    timeout: { type: "string", default: "240" },
    out: { type: "string", default: "results/mutation.md" },
    survivors: { type: "string" },
  },
});

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const commit = await headCommit(root);
const files = (await targetFiles(root, commit)).filter((f) =>
  !values.only || f.includes(values.only)
);
const all: Mutant[] = [];
const scratch = await scratchCopy(root, commit);
for (const file of files) {
  all.push(...mutantsOf(file, await Deno.readTextFile(`${scratch}/${file}`)));
}
const chosen = values.survivors
  ? await survivorsOf(values.survivors, all)
  : sample(all, Number(values.max), Number(values.seed));
console.log(`${all.length} mutants in ${files.length} files; running ${chosen.length}`);

const tests = await coveringTests(root, commit, scratch, [...new Set(chosen.map((m) => m.file))]);
const outcomes: Outcome[] = [];
const started = performance.now();
for (const [i, mutant] of chosen.entries()) {
  const covering = tests.get(mutant.file) ?? [];
  const outcome = covering.length === 0
    ? { mutant, result: "uncovered" as const, tests: [], seconds: 0 }
    : await runMutant(scratch, mutant, covering, Number(values.timeout));
  outcomes.push(outcome);
  const where = `${mutant.file}:${mutant.line}`;
  console.log(
    `[${i + 1}/${chosen.length}] ${outcome.result.padEnd(10)} ${where} ${mutant.operator}`,
  );
}
await Deno.remove(scratch, { recursive: true });
const minutes = (performance.now() - started) / 60000;
const outPath = values.out.startsWith("/") ? values.out : `${root}/${values.out}`;
const summary = await writeReport(outPath, outcomes, {
  mutantsListed: all.length,
  files: files.length,
  seed: Number(values.seed),
  minutes,
  commit,
  command: values.survivors
    ? `deno task mutate --survivors ${values.survivors}`
    : `deno task mutate --seed ${values.seed} --max ${values.max}`,
});
console.log(summary);

/** Runs the covering tests against one mutant in the scratch copy. */
async function runMutant(
  dir: string,
  mutant: Mutant,
  covering: readonly string[],
  timeoutSeconds: number,
): Promise<Outcome> {
  const path = `${dir}/${mutant.file}`;
  const original = await Deno.readTextFile(path);
  await Deno.writeTextFile(path, applyMutant(original, mutant));
  const begun = performance.now();
  // The closest tests first; the rest only when they pass.
  const stages = [covering.slice(0, FIRST_STAGE), covering.slice(FIRST_STAGE)].filter((s) =>
    s.length > 0
  );
  try {
    for (const stage of stages) {
      const result = await runTests(dir, stage, timeoutSeconds);
      if (result !== "survived") {
        return {
          mutant,
          result,
          tests: [...covering],
          seconds: (performance.now() - begun) / 1000,
        };
      }
    }
    return {
      mutant,
      result: "survived",
      tests: [...covering],
      seconds: (performance.now() - begun) / 1000,
    };
  } finally {
    await Deno.writeTextFile(path, original);
  }
}

/** Runs test files; killed when one fails (or the run times out), stillborn when a shader no longer compiles. */
async function runTests(
  dir: string,
  tests: readonly string[],
  timeoutSeconds: number,
): Promise<Outcome["result"]> {
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", "--no-check", "--fail-fast", ...tests],
      cwd: dir,
      env: { GSC_POOL_POISON: "1", GSC_GRID_FOLD: "2", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(timeoutSeconds * 1000),
    }).spawn();
    const { code, stdout, stderr } = await child.output();
    const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    const stillborn = text.includes("ShaderCompileError") ||
      /SyntaxError|error: The module's source code could not be parsed/.test(text);
    return code === 0 ? "survived" : stillborn ? "stillborn" : "killed";
  } catch {
    // Timed out: an infinite loop or a hang the mutant caused counts as killed.
    return "killed";
  }
}

/**
 * The mutants that survived in an earlier report (its `.json`), found again
 * among today's: same file, operator and lines before and after (a line that
 * changed since is reported and skipped).
 */
async function survivorsOf(path: string, today: readonly Mutant[]): Promise<Mutant[]> {
  const earlier = JSON.parse(await Deno.readTextFile(path)) as { outcomes: Outcome[] };
  const found: Mutant[] = [];
  for (const { mutant, result } of earlier.outcomes) {
    if (result !== "survived") continue;
    const match = today.find((m) =>
      m.file === mutant.file && m.operator === mutant.operator && m.before === mutant.before &&
      m.after === mutant.after
    );
    if (match) found.push(match);
    else console.log(`${mutant.file}:${mutant.line} ${mutant.operator}: the line has changed`);
  }
  return found;
}
