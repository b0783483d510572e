/**
 * The layer check: every file under `src/` belongs to a layer (its first
 * folder), and a file may import only from its own layer or one below.
 * `deno task layers` prints each import that points up and exits 1 when
 * there is one (`deno task check` runs it).
 *
 * The order, lowest first (docs/architecture.md says what each holds):
 * util, io (file formats) | gpu | tensor | ops | autograd | nn, optim | data
 * | incremental | cli.
 *
 * @module
 */

/** Each layer's rank; layers of equal rank may import each other. */
export const LAYER_RANKS: Readonly<Record<string, number>> = {
  util: 0,
  io: 0,
  gpu: 1,
  tensor: 2,
  ops: 3,
  autograd: 4,
  nn: 5,
  optim: 5,
  data: 6,
  incremental: 7,
  cli: 8,
};

/** An import that points to a higher layer. */
export interface UpwardImport {
  readonly file: string;
  readonly target: string;
  readonly from: string;
  readonly to: string;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/g;

/** The layer of a path relative to `src/` ("nn/deeplab.ts" -> "nn"), or undefined outside it. */
export const layerOf = (path: string): string | undefined => {
  const parts = path.split("/");
  return parts.length > 1 ? parts[0] : undefined;
};

/** Joins a relative import onto the folder of `file` (both relative to the repository). */
const resolve = (file: string, target: string): string => {
  const parts = file.split("/").slice(0, -1);
  for (const piece of target.split("/")) {
    if (piece === "..") parts.pop();
    else if (piece !== ".") parts.push(piece);
  }
  return parts.join("/");
};

/** The upward imports of one source file (`path` relative to the repository, under `src/`). */
export const upwardImports = (path: string, text: string): UpwardImport[] => {
  const from = layerOf(path.replace(/^src\//, ""));
  if (!from) return [];
  const out: UpwardImport[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const resolved = resolve(path, match[1]);
    if (!resolved.startsWith("src/")) continue;
    const to = layerOf(resolved.slice(4));
    if (!to || to === from) continue;
    const [rankFrom, rankTo] = [LAYER_RANKS[from], LAYER_RANKS[to]];
    if (rankFrom === undefined || rankTo === undefined || rankTo > rankFrom) {
      out.push({ file: path, target: match[1], from, to });
    }
  }
  return out;
};

/** Every `.ts` file under `dir`, relative to the working directory. */
async function* sources(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* sources(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

/** The upward imports of every file under `src/`. */
export const checkLayers = async (root = "src"): Promise<UpwardImport[]> => {
  const found: UpwardImport[] = [];
  for await (const path of sources(root)) {
    found.push(...upwardImports(path, await Deno.readTextFile(path)));
  }
  return found.sort((a, b) => a.file.localeCompare(b.file));
};

if (import.meta.main) {
  const found = await checkLayers();
  for (const u of found) {
    const unknown = LAYER_RANKS[u.from] === undefined || LAYER_RANKS[u.to] === undefined;
    const why = unknown ? "a folder with no layer" : `${u.from} imports ${u.to}, a higher layer`;
    console.log(`${u.file}: "${u.target}" (${why})`);
  }
  console.log(found.length === 0 ? "layers: no upward import" : `layers: ${found.length} upward`);
  if (found.length > 0) Deno.exit(1);
}
