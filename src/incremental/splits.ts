/**
 * Opening a run's training and evaluation splits. A missing list is
 * reported with the lists the dataset does have; a VOC root without SBD's
 * augmented set (the default `train_aug`) but with plain VOC's `train.txt`
 * is told to pass `--train-split train`.
 *
 * @module
 */
import { Effect } from "effect";
import {
  type Dataset,
  DatasetLayoutError,
  isFile,
  type ListFileMissingError,
  listFolder,
  type ListLineError,
  type MissingSampleFileError,
  openAde20k,
  openCityscapes,
  openVoc,
  STANDARD_SCALE_RANGE,
  vocListCandidates,
} from "../data/mod.ts";
import { RunSetupError } from "./setup_error.ts";
import type { RunConfig } from "./types.ts";

/** The random-scale range a run's training augmentation draws from. */
export const scaleRangeOf = (config: RunConfig): readonly [number, number] => [
  config.scaleMin ?? STANDARD_SCALE_RANGE[0],
  config.scaleMax ?? STANDARD_SCALE_RANGE[1],
];

/** The split a run trains on: `trainSplit`, else SBD's `train_aug` on VOC and `train` elsewhere. */
export const trainSplitOf = (config: RunConfig): string =>
  config.trainSplit ?? (config.dataset === "voc" ? "train_aug" : "train");

/** Opens a split of the configured dataset. */
export const openSplit = (
  config: RunConfig,
  split: string,
): Effect.Effect<
  Dataset,
  ListFileMissingError | ListLineError | MissingSampleFileError | DatasetLayoutError
> => {
  const root = config.dataRoot;
  switch (config.dataset) {
    case "synth":
    case "voc":
      return openVoc({ root, split });
    case "ade":
      return openAde20k({ root, split });
    case "cityscapes":
      if (split !== "train" && split !== "val" && split !== "trainval") {
        return Effect.fail(
          new DatasetLayoutError({
            root,
            reason: `unknown Cityscapes split "${split}" (train, val, trainval)`,
          }),
        );
      }
      return openCityscapes({ root, split });
  }
};

/** The list names (without `.txt`) a VOC-layout root holds, sorted and distinct. */
export const vocSplitNames = async (root: string): Promise<string[]> => {
  const folders = vocListCandidates(root, "x").map((file) => file.slice(0, -"/x.txt".length));
  const names = new Set<string>();
  for (const folder of folders) {
    const found = await listFolder(folder, (e) => e.isFile && e.name.endsWith(".txt")).catch(
      () => [],
    );
    for (const name of found) names.add(name.slice(0, -".txt".length));
  }
  return [...names].sort();
};

/** Why a split's list is missing, with what the root offers instead. */
const missingListReason = (
  config: RunConfig,
  split: string,
  role: "training" | "evaluation",
  error: ListFileMissingError,
) =>
  Effect.promise(async () => {
    const root = config.dataRoot;
    const head = `${role} split '${split}': ${error.message}`;
    if (config.dataset !== "voc" && config.dataset !== "synth") return head;
    const plainTrain = vocListCandidates(root, "train")[0];
    if (
      role === "training" && config.dataset === "voc" && split.includes("aug") &&
      await isFile(plainTrain)
    ) {
      return `${root} has no ${split} list (SBD's augmented set: ${split}.txt in ` +
        `ImageSets/Segmentation/, ImageSets/SegmentationAug/ or splits/, masks in ` +
        `SegmentationClassAug/) but has plain VOC's ${plainTrain}: pass --train-split train to ` +
        `train on VOC 2012's own train list (1,464 images; the papers train on train_aug's ` +
        `10,582), or install SBD's set (docs/datasets.md)`;
    }
    const names = await vocSplitNames(root);
    const option = role === "training" ? "--train-split" : "--eval-split (gsc eval: --split)";
    return `${head}; ${
      names.length === 0 ? `${root} holds no split lists` : `lists there: ${names.join(", ")}`
    } (choose one with ${option})`;
  });

const openNamed = (config: RunConfig, split: string, role: "training" | "evaluation") =>
  openSplit(config, split).pipe(
    Effect.catchTag(
      "ListFileMissingError",
      (error) =>
        Effect.flatMap(
          missingListReason(config, split, role, error),
          (reason) => Effect.fail(new RunSetupError({ reason })),
        ),
    ),
  );

/** Opens the split the run trains on. */
export const openTrainSplit = (config: RunConfig) =>
  openNamed(config, trainSplitOf(config), "training");

/** Opens the split evaluated after every step. */
export const openEvalSplit = (config: RunConfig) =>
  openNamed(config, config.evalSplit, "evaluation");
