/**
 * Side-by-side speed of an earlier commit and this tree: checks REV out into
 * a temporary git worktree, runs REV's own `bench/model.ts` there and this
 * tree's `bench/model.ts` here (one after the other, never together: they
 * share the cores), parses the `small b8 64x64` row's `ms/step` from each
 * printed table, and prints both with the speed-up (REV ms / ours ms). The
 * worktree is removed afterwards, also on failure.
 *
 *     deno run -A bench/model.ts --compare REV [--rounds N]
 *     deno task bench -- --compare REV
 *     tools/bench_compare.sh REV [N]
 *
 * Both runs get `--no-torch --case small:8:64:16:10`: benches that know
 * those flags time only that case; older ones ignore them and print their
 * whole table. With `--rounds N` the two alternate N times and the means are
 * compared.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { table } from "./support.ts";

/** The row and column the comparison reads. */
export const COMPARED_ROW = "small b8 64x64";

const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const BENCH_ARGS = ["--no-torch", "--case", "small:8:64:16:10"];

/**
 * ms/step of the `small b8 64x64` row of a printed bench table: the header is
 * the line with a `ms/step` cell (cells are separated by two or more spaces);
 * if the table has an `OS` column, the row at output stride 16 is taken.
 */
export const parseStepMs = (stdout: string, row = COMPARED_ROW): number | undefined => {
  const lines = stdout.split("\n").map((l) => l.trim().split(/\s{2,}/));
  for (let h = 0; h < lines.length; h++) {
    const msColumn = lines[h].indexOf("ms/step");
    if (msColumn < 0) continue;
    const osColumn = lines[h].indexOf("OS");
    for (const cells of lines.slice(h + 1)) {
      if (cells.length < 2) break;
      if (cells[0] !== row || (osColumn >= 0 && cells[osColumn] !== "16")) continue;
      const ms = Number(cells[msColumn]);
      if (Number.isFinite(ms)) return ms;
    }
  }
  return undefined;
};

const run = async (cmd: string, args: readonly string[], cwd: string) => {
  const out = await new Deno.Command(cmd, {
    args: [...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? Deno.makeTempDirSync() },
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    ok: out.success,
    code: out.code,
    stdout: decode(out.stdout),
    stderr: decode(out.stderr),
  };
};

const git = async (...args: string[]) => {
  const r = await run("git", args, ROOT);
  if (!r.ok) throw new Error(`git ${args.join(" ")}: ${r.stderr.trim()}`);
  return r.stdout.trim();
};

/** Runs one tree's bench/model.ts with this Deno and returns its small b8 64x64 ms/step. */
const benchTree = async (name: string, dir: string): Promise<number> => {
  console.log(`\n### ${name}: ${dir}/bench/model.ts`);
  const r = await run(Deno.execPath(), ["run", "-A", "bench/model.ts", ...BENCH_ARGS], dir);
  const shown = r.stdout.split("\n").filter((l) => l.trim() && !l.startsWith("## "));
  for (const line of shown) console.log(`  ${line}`);
  const ms = parseStepMs(r.stdout);
  if (!r.ok || ms === undefined) {
    throw new Error(
      `${name}: bench/model.ts exited ${r.code} without a "${COMPARED_ROW}" ms/step row\n` +
        r.stderr.trim().split("\n").slice(-15).join("\n"),
    );
  }
  return ms;
};

const mean = (xs: readonly number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;

/** Compares `small b8 64x64` ms/step of REV and of this tree (see the module doc). */
export const compareWith = async (
  rev: string,
  options: { readonly rounds?: number } = {},
): Promise<{ readonly rev: number; readonly ours: number; readonly speedUp: number }> => {
  const rounds = Math.max(1, Math.floor(options.rounds ?? 1));
  const sha = await git("rev-parse", "--verify", `${rev}^{commit}`);
  const short = sha.slice(0, 7);
  const here = await git("describe", "--always", "--dirty");
  const parent = await Deno.makeTempDir({ prefix: "gsc-compare-" });
  const dir = `${parent}/${short}`;
  console.log(`\n## ${COMPARED_ROW} training step: ${rev} (${short}) against this tree (${here})`);
  await git("worktree", "add", "--detach", dir, sha);
  const revMs: number[] = [];
  const oursMs: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const round = rounds > 1 ? ` round ${r + 1}/${rounds}` : "";
      revMs.push(await benchTree(`${short}${round}`, dir));
      oursMs.push(await benchTree(`${here}${round}`, ROOT));
    }
  } finally {
    await git("worktree", "remove", "--force", dir).catch((e) => console.error(String(e)));
    await Deno.remove(parent, { recursive: true }).catch(() => {});
    await git("worktree", "prune").catch(() => {});
  }
  const result = { rev: mean(revMs), ours: mean(oursMs), speedUp: mean(revMs) / mean(oursMs) };
  console.log(`\n${COMPARED_ROW} OS16, ms/step${rounds > 1 ? ` (mean of ${rounds} rounds)` : ""}:`);
  console.log(table([
    ["tree", "ms/step", "runs"],
    [`${rev} (${short})`, result.rev.toFixed(0), revMs.map((x) => x.toFixed(0)).join(" ")],
    [`this tree (${here})`, result.ours.toFixed(0), oursMs.map((x) => x.toFixed(0)).join(" ")],
  ]));
  console.log(`speed-up: ${result.speedUp.toFixed(2)}x (${short} ms / this tree's ms)`);
  if (rounds > 1) {
    const best = Math.min(...revMs) / Math.min(...oursMs);
    console.log(`speed-up of the best runs: ${best.toFixed(2)}x (the least disturbed of each)`);
  }
  console.log(
    `load average ${Deno.loadavg()[0].toFixed(2)} on ${navigator.hardwareConcurrency} cores ` +
      `(others' work on these cores moves both runs: use --rounds N on a busy machine)`,
  );
  return result;
};
