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
 * `ms/step` waits for the device after every step in both trees. A second
 * comparison times the step as each tree's engine trains: the `train ms/step`
 * column where a bench prints it (the loss read back every 8 steps: waited
 * for, or since a12e0d6 collected 8 steps later), and `ms/step` for a tree
 * whose engine read the loss back after every batch (its source has no
 * `LOSS_READBACK_EVERY`), which then waited
 * every step. A tree with the interval but without the column gets no such
 * figure.
 *
 * Both runs inherit the environment: with `GALLIUM_OVERRIDE_CPU_CAPS=avx` set,
 * llvmpipe generates AVX2 code for both (the code of machines without
 * AVX-512); the output names the code it ran.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { table } from "./support.ts";
import { llvmpipeUsesAvx512 } from "../src/util/cpu.ts";

/** The row and column the comparison reads. */
export const COMPARED_ROW = "small b8 64x64";

const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const BENCH_ARGS = ["--no-torch", "--case", "small:8:64:16:10"];

/**
 * The `column` cell (default `ms/step`) of the `small b8 64x64` row of a
 * printed bench table: the header is the line with that cell (cells are
 * separated by two or more spaces); if the table has an `OS` column, the row
 * at output stride 16 is taken.
 */
export const parseStepMs = (
  stdout: string,
  row = COMPARED_ROW,
  column = "ms/step",
): number | undefined => {
  const lines = stdout.split("\n").map((l) => l.trim().split(/\s{2,}/));
  for (let h = 0; h < lines.length; h++) {
    const msColumn = lines[h].indexOf(column);
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

/**
 * Which code llvmpipe generates for both trees (the variable passes to REV's
 * bench too): AVX-512, or AVX2 and below where the CPU lacks AVX-512 or
 * `GALLIUM_OVERRIDE_CPU_CAPS` caps it (e.g. `avx`, the slower machines' code).
 */
export const llvmpipeCodeLine = (
  caps = Deno.env.get("GALLIUM_OVERRIDE_CPU_CAPS") ?? "",
  avx512 = llvmpipeUsesAvx512(),
): string => {
  const code = avx512 ? "AVX-512" : "AVX2 or below";
  return `llvmpipe code on a CPU adapter: ${code}` +
    (caps === "" ? "" : ` (GALLIUM_OVERRIDE_CPU_CAPS=${caps})`);
};

const git = async (...args: string[]) => {
  const r = await run("git", args, ROOT);
  if (!r.ok) throw new Error(`git ${args.join(" ")}: ${r.stderr.trim()}`);
  return r.stdout.trim();
};

/** What one tree's bench gave: ms/step, and train ms/step where its table has the column. */
interface TreeStep {
  readonly ms: number;
  readonly trainMs: number | undefined;
}

/** Runs one tree's bench/model.ts with this Deno and returns its small b8 64x64 step times. */
const benchTree = async (name: string, dir: string): Promise<TreeStep> => {
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
  return { ms, trainMs: parseStepMs(r.stdout, COMPARED_ROW, "train ms/step") };
};

/**
 * A tree's training step as its engine trains: its `train ms/step`, or its
 * `ms/step` when its engine read the loss back after every batch
 * (`readsEveryBatch`); undefined when neither is known.
 */
export const engineStepMs = (step: TreeStep, readsEveryBatch: boolean): number | undefined =>
  step.trainMs ?? (readsEveryBatch ? step.ms : undefined);

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
  console.log(llvmpipeCodeLine());
  await git("worktree", "add", "--detach", dir, sha);
  const revSteps: TreeStep[] = [];
  const oursSteps: TreeStep[] = [];
  let revReadsEveryBatch = false;
  try {
    const grep = await run("git", ["grep", "-q", "LOSS_READBACK_EVERY", "--", "src"], dir);
    revReadsEveryBatch = grep.code === 1;
    for (let r = 0; r < rounds; r++) {
      const round = rounds > 1 ? ` round ${r + 1}/${rounds}` : "";
      revSteps.push(await benchTree(`${short}${round}`, dir));
      oursSteps.push(await benchTree(`${here}${round}`, ROOT));
    }
  } finally {
    await git("worktree", "remove", "--force", dir).catch((e) => console.error(String(e)));
    await Deno.remove(parent, { recursive: true }).catch(() => {});
    await git("worktree", "prune").catch(() => {});
  }
  const revMs = revSteps.map((s) => s.ms);
  const oursMs = oursSteps.map((s) => s.ms);
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
  const revEngine = revSteps.map((s) => engineStepMs(s, revReadsEveryBatch));
  const oursEngine = oursSteps.map((s) => engineStepMs(s, false));
  if ([...revEngine, ...oursEngine].every((x) => x !== undefined)) {
    const a = revEngine as number[];
    const b = oursEngine as number[];
    const how = (readsEveryBatch: boolean, step: TreeStep) =>
      step.trainMs !== undefined
        ? "train ms/step: its engine's loss readbacks every 8 steps"
        : readsEveryBatch
        ? "ms/step: its engine read the loss back after every batch"
        : "unknown";
    console.log(`\nThe step as each tree's engine trains it:`);
    console.log(table([
      ["tree", "ms/step", "runs", "timed as"],
      [
        `${rev} (${short})`,
        mean(a).toFixed(0),
        a.map((x) => x.toFixed(0)).join(" "),
        how(revReadsEveryBatch, revSteps[0]),
      ],
      [
        `this tree (${here})`,
        mean(b).toFixed(0),
        b.map((x) => x.toFixed(0)).join(" "),
        how(false, oursSteps[0]),
      ],
    ]));
    console.log(`speed-up as trained: ${(mean(a) / mean(b)).toFixed(2)}x`);
  } else {
    console.log(
      `\n(${short}'s engine reads the loss back every few batches but its bench has no ` +
        `train ms/step column: no as-trained comparison)`,
    );
  }
  console.log(
    `load average ${Deno.loadavg()[0].toFixed(2)} on ${navigator.hardwareConcurrency} cores ` +
      `(others' work on these cores moves both runs: use --rounds N on a busy machine)`,
  );
  return result;
};
