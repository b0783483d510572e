/**
 * The mutation report: the score (killed over killed + survived), the
 * survivors with their lines, and the raw outcomes as JSON beside it.
 *
 * @module
 */
import type { Mutant } from "./mutants.ts";

/** What became of one mutant. */
export interface Outcome {
  readonly mutant: Mutant;
  /** killed: a test failed; survived: all passed; stillborn: it did not compile; uncovered: no test imports the file. */
  readonly result: "killed" | "survived" | "stillborn" | "uncovered";
  readonly tests: readonly string[];
  readonly seconds: number;
}

/** How the sample was drawn and how long it ran. */
export interface RunFacts {
  readonly mutantsListed: number;
  readonly files: number;
  readonly seed: number;
  readonly minutes: number;
  /** The commit the mutants were made from. */
  readonly commit: string;
  /** The command line that ran them. */
  readonly command: string;
}

/** The score of a set of outcomes: killed / (killed + survived + uncovered). */
export const score = (outcomes: readonly Outcome[]) => {
  const count = (r: Outcome["result"]) => outcomes.filter((o) => o.result === r).length;
  const killed = count("killed");
  const survived = count("survived");
  const uncovered = count("uncovered");
  const stillborn = count("stillborn");
  const scored = killed + survived + uncovered;
  return { killed, survived, uncovered, stillborn, ratio: scored === 0 ? 1 : killed / scored };
};

/** Writes `path` (markdown) and `path` with `.json`; returns the one-line summary. */
export const writeReport = async (
  path: string,
  outcomes: readonly Outcome[],
  facts: RunFacts,
): Promise<string> => {
  const s = score(outcomes);
  const summary = `mutation score ${(100 * s.ratio).toFixed(1)}%: ${s.killed} killed, ` +
    `${s.survived} survived, ${s.uncovered} uncovered, ${s.stillborn} stillborn ` +
    `(${outcomes.length} of ${facts.mutantsListed} mutants in ${facts.files} files, seed ${facts.seed}, ` +
    `${facts.minutes.toFixed(1)} min)`;
  const lines = [
    "# Mutation score",
    "",
    `Command: \`${facts.command}\`, on commit ${facts.commit.slice(0, 7)}`,
    "",
    summary,
    "",
    "## Survivors",
    "",
    "| file:line | operator | before | after |",
    "|---|---|---|---|",
    ...outcomes.filter((o) => o.result === "survived" || o.result === "uncovered").map((o) =>
      `| ${o.mutant.file}:${o.mutant.line} | ${o.mutant.operator}${
        o.result === "uncovered" ? " (no test imports it)" : ""
      } | \`${o.mutant.before.trim().replaceAll("|", "\\|")}\` | \`${
        o.mutant.after.trim().replaceAll("|", "\\|")
      }\` |`
    ),
    "",
  ];
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, lines.join("\n"));
  await Deno.writeTextFile(
    path.replace(/\.md$/, "") + ".json",
    JSON.stringify({ summary, facts, outcomes }, null, 1) + "\n",
  );
  return summary;
};
