/**
 * Reading list files (`ImageSets/Segmentation/*.txt`): one sample per line,
 * either a bare image name (`2007_000032`) or an image path and a mask path
 * (`/JPEGImages/x.jpg /SegmentationClassAug/x.png`, the augmented lists' form).
 *
 * @module
 */
import { Effect } from "effect";
import { ListFileMissingError, ListLineError } from "./errors.ts";

/** One non-blank line of a list file, split on whitespace. */
export interface ListEntry {
  /** 1-based line number in the list file. */
  readonly line: number;
  readonly fields: readonly string[];
}

/** Reads a list file's non-blank lines; a missing file is a {@link ListFileMissingError}. */
export function readList(
  file: string,
): Effect.Effect<ListEntry[], ListFileMissingError | ListLineError> {
  return Effect.gen(function* () {
    const text = yield* Effect.tryPromise({
      try: () => Deno.readTextFile(file),
      catch: (error) =>
        new ListFileMissingError({
          file,
          reason: error instanceof Deno.errors.NotFound ? "no such file" : String(error),
        }),
    });
    const entries: ListEntry[] = [];
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const fields = lines[i].trim().split(/\s+/).filter((f) => f.length > 0);
      if (fields.length === 0) continue;
      if (fields.length > 2) {
        return yield* new ListLineError({
          listFile: file,
          line: i + 1,
          reason: `expected "name" or "image mask", got ${fields.length} fields`,
        });
      }
      entries.push({ line: i + 1, fields });
    }
    return entries;
  });
}
