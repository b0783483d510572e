/**
 * Existence check of every sample's files when a dataset is opened, so a
 * missing file is reported with its list line before any training starts.
 *
 * @module
 */
import { Effect } from "effect";
import type { SampleRef } from "./dataset.ts";
import { MissingSampleFileError, type SkippedSample } from "./errors.ts";
import { isFile } from "./files.ts";

/** The samples whose image and mask both exist, and the rest as skipped (or the first as an error). */
export function checkSampleFiles(
  refs: readonly SampleRef[],
  skipBad: boolean,
): Effect.Effect<{ samples: SampleRef[]; skipped: SkippedSample[] }, MissingSampleFileError> {
  return Effect.gen(function* () {
    // Stat in parallel: tens of thousands of files on a network disk are slow one by one.
    const missing = yield* Effect.forEach(
      refs,
      (ref) =>
        Effect.promise(async () => {
          if (!(await isFile(ref.image))) return ref.image;
          if (!(await isFile(ref.label))) return ref.label;
          return undefined;
        }),
      { concurrency: 64 },
    );
    const samples: SampleRef[] = [];
    const skipped: SkippedSample[] = [];
    for (let i = 0; i < refs.length; i++) {
      const file = missing[i];
      if (file === undefined) {
        samples.push(refs[i]);
        continue;
      }
      const error = new MissingSampleFileError({
        file,
        listFile: refs[i].listFile,
        line: refs[i].line,
        reason: "listed but does not exist",
      });
      if (!skipBad) return yield* error;
      skipped.push({ name: refs[i].name, error });
    }
    return { samples, skipped };
  });
}
