/**
 * Where mutants run: a scratch copy of the repository's tracked files (so the
 * working tree is never touched), the files that get mutated, and which test
 * files reach each of them through their import graph.
 *
 * @module
 */

/** The loss and method sources mutated besides every WGSL program. */
const SOURCE_PATTERNS: readonly RegExp[] = [
  /^src\/ops\/(cross_entropy|kl|loss|bce|masked|distance|softmax)\.ts$/,
  /^src\/ops\/(distill|pod|pseudo_labels|ssrd|sgc|prototypes|pseudo_relabel|segments)\.ts$/,
  /^src\/ops\/confusion\.ts$/,
  /^src\/incremental\/losses\/[a-z_]+\.ts$/,
  /^src\/incremental\/gsc\/[a-z_]+\.ts$/,
  /^src\/incremental\/methods\/[a-z_]+\.ts$/,
];

const run = async (cwd: string, cmd: string, args: string[]): Promise<string> => {
  const { code, stdout, stderr } = await new Deno.Command(cmd, {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
  }
  return new TextDecoder().decode(stdout);
};

const tracked = async (root: string, commit: string): Promise<string[]> =>
  (await run(root, "git", ["ls-tree", "-r", "--name-only", commit])).split("\n").filter((f) =>
    f.length > 0
  );

/** The files to mutate: every tracked WGSL program and the loss and method sources. */
export const targetFiles = async (root: string, commit: string): Promise<string[]> =>
  (await tracked(root, commit)).filter((f) =>
    (f.startsWith("shaders/") && f.endsWith(".wgsl")) ||
    SOURCE_PATTERNS.some((p) => p.test(f))
  ).filter((f) => !f.endsWith("/mod.ts"));

/**
 * Extracts the tree of `commit` (the caller's `HEAD`) into a new temporary directory, so
 * mutants run against what is committed whatever the working tree holds;
 * `node_modules` is linked.
 */
export const scratchCopy = async (root: string, commit: string): Promise<string> => {
  const dir = await Deno.makeTempDir({ prefix: "gsc-mutate-" });
  const archive = await new Deno.Command("git", {
    args: ["archive", "--format=tar", commit],
    cwd: root,
    stdout: "piped",
  }).output();
  if (archive.code !== 0) throw new Error(`git archive ${commit} failed`);
  const tar = new Deno.Command("tar", { args: ["-x", "-C", dir], stdin: "piped" }).spawn();
  const writer = tar.stdin.getWriter();
  await writer.write(archive.stdout);
  await writer.close();
  if (!(await tar.status).success) throw new Error(`tar -x into ${dir} failed`);
  await Deno.symlink(`${root}/node_modules`, `${dir}/node_modules`);
  return dir;
};

interface ModuleInfo {
  readonly specifier: string;
}

/**
 * For each file, the test files (relative paths) whose import graph, in the
 * copy `dir` of `root`, contains it; the tests with the fewest modules first.
 */
export const coveringTests = async (
  root: string,
  commit: string,
  dir: string,
  files: readonly string[],
): Promise<Map<string, string[]>> => {
  const tests = (await tracked(root, commit)).filter((f) =>
    f.startsWith("tests/") && f.endsWith("_test.ts")
  );
  const wanted = new Set(files);
  const covering = new Map<string, string[]>(files.map((f) => [f, []]));
  const prefix = `file://${dir}/`;
  const sizes = new Map<string, number>();
  for (const test of tests) {
    const json = await run(dir, Deno.execPath(), ["info", "--json", test]);
    const modules = (JSON.parse(json) as { modules: ModuleInfo[] }).modules;
    for (const m of modules) {
      if (!m.specifier.startsWith(prefix)) continue;
      const file = m.specifier.slice(prefix.length);
      if (wanted.has(file)) covering.get(file)!.push(test);
    }
    sizes.set(test, modules.length);
  }
  // Smallest import graphs first: the tests closest to the file run (and fail) first.
  for (const list of covering.values()) list.sort((a, b) => sizes.get(a)! - sizes.get(b)!);
  return covering;
};

/** The commit `HEAD` names. */
export const headCommit = async (root: string): Promise<string> =>
  (await run(root, "git", ["rev-parse", "HEAD"])).trim();
