/**
 * The two file-system questions option validation asks, answered
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
