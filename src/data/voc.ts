/**
 * The Pascal VOC 2012 reader (also reads the synthetic benchmark, which has
 * the same layout): `JPEGImages/*.jpg`, palette masks in `SegmentationClass/`
 * or `SegmentationClassAug/`, lists in `ImageSets/Segmentation/<split>.txt`.
 *
 * @module
 */
import { Effect } from "effect";
import { type Dataset, type SampleRef, VOC_INFO } from "./dataset.ts";
import type { ListFileMissingError, ListLineError, MissingSampleFileError } from "./errors.ts";
import { isFile, joinPath, stem } from "./files.ts";
import { readList } from "./lists.ts";
import { checkSampleFiles } from "./check.ts";

/** Options of {@link openVoc}. */
export interface VocOptions {
  /** The folder holding `JPEGImages/`, `SegmentationClass*`, `ImageSets/`. */
  readonly root: string;
  /** `train`, `val`, `test` (synthetic set), `train_aug`, or any list name. */
  readonly split: string;
  /** Mask folder; default `SegmentationClassAug` for `*aug*` splits, else `SegmentationClass`. */
  readonly labelDir?: string;
  /** An explicit list file; default: the first of `listCandidates` that exists. */
  readonly listFile?: string;
  /** Leave out samples whose files are missing (reported in `skipped`) instead of failing. */
  readonly skipBad?: boolean;
}

/** Where a split's list file may be: VOC's folder, the augmented set's folder, a `splits/` folder. */
export function vocListCandidates(root: string, split: string): string[] {
  return [
    joinPath(root, "ImageSets", "Segmentation", `${split}.txt`),
    joinPath(root, "ImageSets", "SegmentationAug", `${split}.txt`),
    joinPath(root, "splits", `${split}.txt`),
  ];
}

/** Resolves one list line to the sample's files (paths in two-field lines are root-relative). */
function sampleOfLine(
  root: string,
  labelDir: string,
  listFile: string,
  line: number,
  fields: readonly string[],
): SampleRef {
  if (fields.length === 1) {
    const name = fields[0];
    return {
      name,
      image: joinPath(root, "JPEGImages", `${name}.jpg`),
      label: joinPath(root, labelDir, `${name}.png`),
      listFile,
      line,
    };
  }
  return {
    name: stem(fields[0]),
    image: joinPath(root, fields[0]),
    label: joinPath(root, fields[1]),
    listFile,
    line,
  };
}

/** Opens a VOC-layout split and checks that every listed file exists. */
export function openVoc(
  options: VocOptions,
): Effect.Effect<Dataset, ListFileMissingError | ListLineError | MissingSampleFileError> {
  return Effect.gen(function* () {
    const { root, split } = options;
    const labelDir = options.labelDir ??
      (split.includes("aug") ? "SegmentationClassAug" : "SegmentationClass");
    let listFile = options.listFile;
    if (listFile === undefined) {
      const candidates = vocListCandidates(root, split);
      for (const candidate of candidates) {
        if (yield* Effect.promise(() => isFile(candidate))) {
          listFile = candidate;
          break;
        }
      }
      listFile ??= candidates[0];
    }
    const entries = yield* readList(listFile);
    const refs = entries.map((e) => sampleOfLine(root, labelDir, listFile, e.line, e.fields));
    const { samples, skipped } = yield* checkSampleFiles(refs, options.skipBad ?? false);
    return {
      info: VOC_INFO,
      root,
      split,
      listFile,
      labelDir: joinPath(root, labelDir),
      samples,
      skipped,
    };
  });
}
