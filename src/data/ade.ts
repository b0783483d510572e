/**
 * The ADE20K reader (ADEChallengeData2016): `images/{training,validation}/*.jpg`
 * with `annotations/{training,validation}/*.png` of the same stem. Masks hold
 * 0..150; 0 ("other") trains as background and becomes 255 at evaluation
 * (`ADE_INFO.zeroIgnoredAtEval`), as MiB does. The split has no list file:
 * samples are the sorted image names, so "line" is the 1-based position.
 *
 * @module
 */
import { Effect } from "effect";
import { ADE_INFO, type Dataset, type SampleRef } from "./dataset.ts";
import { DatasetLayoutError, type MissingSampleFileError } from "./errors.ts";
import { isDirectory, joinPath, listFolder, stem } from "./files.ts";
import { checkSampleFiles } from "./check.ts";

/** Options of {@link openAde20k}. */
export interface AdeOptions {
  /** The `ADEChallengeData2016` folder. */
  readonly root: string;
  /** `training` or `validation` (`train`/`val` are accepted too). */
  readonly split: string;
  /** Leave out images without annotation (reported in `skipped`) instead of failing. */
  readonly skipBad?: boolean;
}

const SPLIT_FOLDERS: Record<string, string> = {
  training: "training",
  train: "training",
  validation: "validation",
  val: "validation",
};

/** Opens an ADE20K split and checks that every image has its annotation. */
export function openAde20k(
  options: AdeOptions,
): Effect.Effect<Dataset, DatasetLayoutError | MissingSampleFileError> {
  return Effect.gen(function* () {
    const { root } = options;
    const folder = SPLIT_FOLDERS[options.split];
    if (folder === undefined) {
      return yield* new DatasetLayoutError({
        root,
        reason: `unknown ADE20K split "${options.split}" (training, validation)`,
      });
    }
    const imageDir = joinPath(root, "images", folder);
    const labelDir = joinPath(root, "annotations", folder);
    for (const dir of [imageDir, labelDir]) {
      if (!(yield* Effect.promise(() => isDirectory(dir)))) {
        return yield* new DatasetLayoutError({ root, reason: `missing folder ${dir}` });
      }
    }
    const names = yield* Effect.promise(() =>
      listFolder(imageDir, (e) => e.isFile && e.name.endsWith(".jpg"))
    );
    const refs: SampleRef[] = names.map((file, i) => ({
      name: stem(file),
      image: joinPath(imageDir, file),
      label: joinPath(labelDir, `${stem(file)}.png`),
      listFile: imageDir,
      line: i + 1,
    }));
    const { samples, skipped } = yield* checkSampleFiles(refs, options.skipBad ?? false);
    return { info: ADE_INFO, root, split: folder, labelDir, samples, skipped };
  });
}
