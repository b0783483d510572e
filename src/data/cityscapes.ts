/**
 * The Cityscapes reader: `leftImg8bit/<split>/<city>/<x>_leftImg8bit.png`
 * with `gtFine/<split>/<city>/<x>_gtFine_labelIds.png`. labelIds map to the
 * 19 trainIds (everything else 255) through `CITYSCAPES_INFO.rawToTrain`.
 * Each sample's domain is its city, for the domain-incremental tasks.
 *
 * @module
 */
import { Effect } from "effect";
import { CITYSCAPES_INFO, type Dataset, type SampleRef } from "./dataset.ts";
import { DatasetLayoutError, type MissingSampleFileError } from "./errors.ts";
import { isDirectory, joinPath, listFolder } from "./files.ts";
import { checkSampleFiles } from "./check.ts";

/** Options of {@link openCityscapes}. */
export interface CityscapesOptions {
  /** The folder holding `leftImg8bit/` and `gtFine/`. */
  readonly root: string;
  /** `train`, `val`, or `trainval` (both: the 21 cities of the domain tasks). */
  readonly split: "train" | "val" | "trainval";
  /** Keep only these cities (default: every city found). */
  readonly cities?: readonly string[];
  /** Leave out images without a labelIds mask (reported in `skipped`) instead of failing. */
  readonly skipBad?: boolean;
}

const IMAGE_SUFFIX = "_leftImg8bit.png";
const LABEL_SUFFIX = "_gtFine_labelIds.png";

/** The samples of one split folder, cities and files in sorted order. */
function* splitSamples(root: string, split: string, cities: readonly string[] | undefined) {
  const imageRoot = joinPath(root, "leftImg8bit", split);
  if (!(yield* Effect.promise(() => isDirectory(imageRoot)))) {
    return yield* new DatasetLayoutError({ root, reason: `missing folder ${imageRoot}` });
  }
  const found = yield* Effect.promise(() => listFolder(imageRoot, (e) => e.isDirectory));
  const refs: SampleRef[] = [];
  for (const city of found.filter((c) => cities === undefined || cities.includes(c))) {
    const cityDir = joinPath(imageRoot, city);
    const files = yield* Effect.promise(() =>
      listFolder(cityDir, (e) => e.isFile && e.name.endsWith(IMAGE_SUFFIX))
    );
    files.forEach((file, i) => {
      const name = file.slice(0, -IMAGE_SUFFIX.length);
      refs.push({
        name,
        image: joinPath(cityDir, file),
        label: joinPath(root, "gtFine", split, city, `${name}${LABEL_SUFFIX}`),
        domain: city,
        listFile: cityDir,
        line: i + 1,
      });
    });
  }
  return refs;
}

/** Opens a Cityscapes split and checks that every image has its labelIds mask. */
export function openCityscapes(
  options: CityscapesOptions,
): Effect.Effect<Dataset, DatasetLayoutError | MissingSampleFileError> {
  return Effect.gen(function* () {
    const { root } = options;
    const splits = options.split === "trainval" ? ["train", "val"] : [options.split];
    const refs: SampleRef[] = [];
    for (const split of splits) {
      refs.push(...(yield* Effect.gen(() => splitSamples(root, split, options.cities))));
    }
    const { samples, skipped } = yield* checkSampleFiles(refs, options.skipBad ?? false);
    return {
      info: CITYSCAPES_INFO,
      root,
      split: options.split,
      labelDir: joinPath(root, "gtFine"),
      samples,
      skipped,
    };
  });
}

/** The samples of the given domains (cities), in dataset order. */
export function samplesOfDomains(dataset: Dataset, domains: readonly string[]): SampleRef[] {
  const wanted = new Set(domains);
  return dataset.samples.filter((s) => s.domain !== undefined && wanted.has(s.domain));
}
