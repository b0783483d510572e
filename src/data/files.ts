/**
 * File-system helpers shared by the readers: reading bytes with the right
 * tagged error, existence checks, and path joining without `@std/path`.
 *
 * @module
 */
import { Effect } from "effect";
import { CorruptFileError, type ListPosition, MissingSampleFileError } from "./errors.ts";

/** Joins path segments with `/`, dropping empty ones and duplicate slashes. */
export function joinPath(...parts: string[]): string {
  const joined = parts.filter((p) => p.length > 0).join("/");
  return joined.replace(/\/{2,}/g, "/");
}

/** The last segment of a path. */
export function baseName(path: string): string {
  const parts = path.split("/");
  return parts[parts.length - 1];
}

/** The folder of a path (`.` when it has none). */
export function dirName(path: string): string {
  const cut = path.lastIndexOf("/");
  return cut < 0 ? "." : cut === 0 ? "/" : path.slice(0, cut);
}

/** A file name without its last extension. */
export function stem(path: string): string {
  const base = baseName(path);
  const dot = base.lastIndexOf(".");
  return dot <= 0 ? base : base.slice(0, dot);
}

/** Reads a sample's file; a missing file and an unreadable one get different errors. */
export function readSampleFile(
  file: string,
  position: ListPosition,
): Effect.Effect<Uint8Array, MissingSampleFileError | CorruptFileError> {
  return Effect.tryPromise({
    try: () => Deno.readFile(file),
    catch: (error) =>
      error instanceof Deno.errors.NotFound
        ? new MissingSampleFileError({ file, ...position, reason: "no such file" })
        : new CorruptFileError({ file, ...position, reason: String(error) }),
  });
}

/** Size and modification time: what the class-set cache compares to detect stale entries. */
export interface FileStamp {
  readonly size: number;
  readonly mtimeMs: number;
}

/** The stamp of a file, or undefined when it does not exist. */
export async function fileStamp(file: string): Promise<FileStamp | undefined> {
  try {
    const info = await Deno.stat(file);
    return { size: info.size, mtimeMs: info.mtime?.getTime() ?? 0 };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** Whether a path exists and is a file. */
export async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** Whether a path exists and is a directory. */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/** Sorted names of the entries of a folder that pass the filter. */
export async function listFolder(
  folder: string,
  keep: (entry: Deno.DirEntry) => boolean,
): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(folder)) if (keep(entry)) names.push(entry.name);
  // Code-unit order, not locale order: the same on every machine.
  return names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
