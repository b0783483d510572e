/**
 * The one atomic file writer: the bytes go to a temporary file in the target's
 * directory, are synced to disk, and the temporary file is renamed over the
 * target, so a reader (or a crash) sees the old file or the new one, never
 * half of one. Checkpoints, reports and caches all write through it.
 *
 * @module
 */

/** The folder of `path` ("." when it has none). */
const folderOf = (path: string): string => {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : path.slice(0, slash) || "/";
};

/** Options of {@link writeFileAtomically}. */
export interface AtomicWriteOptions {
  /** Creates the target's folder (and its parents) first. */
  readonly makeFolder?: boolean;
}

/**
 * Writes `data` (text as UTF-8) to `path` atomically: a temporary file in the
 * same folder, fsync, rename. The temporary file is removed on failure.
 */
export const writeFileAtomically = async (
  path: string,
  data: Uint8Array | string,
  options: AtomicWriteOptions = {},
): Promise<void> => {
  const folder = folderOf(path);
  if (options.makeFolder) await Deno.mkdir(folder, { recursive: true });
  const base = path.slice(path.lastIndexOf("/") + 1);
  const temporary = `${folder}/.${base}.${Deno.pid}.${crypto.randomUUID()}.tmp`;
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  try {
    const file = await Deno.open(temporary, { write: true, createNew: true });
    try {
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
};
