/**
 * The file-system questions option validation asks, answered
 * synchronously so parsing stays a plain function returning a `Result`.
 *
 * @module
 */

const statOrNull = (path: string): Deno.FileInfo | null => {
  try {
    return Deno.statSync(path);
  } catch {
    return null;
  }
};

/** Whether `path` is an existing directory (following links). */
export const isDirectory = (path: string): boolean => statOrNull(path)?.isDirectory === true;

/** Whether `path` is an existing regular file (following links). */
export const isFile = (path: string): boolean => statOrNull(path)?.isFile === true;

/**
 * The path (`path` itself or a folder above it) that exists but is not a
 * directory, so `path` cannot be a directory or be created as one; undefined
 * when every existing prefix is a directory.
 */
export const blockingFile = (path: string): string | undefined => {
  const parts = path.split("/");
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join("/");
    if (prefix === "" || prefix === ".") continue;
    const info = statOrNull(prefix);
    if (info === null) return undefined;
    if (!info.isDirectory) return prefix;
  }
  return undefined;
};
