/**
 * What every dataset reader returns: the dataset's label conventions and the
 * list of samples (file pairs), in list order.
 *
 * @module
 */
import { CITYSCAPES_CLASSES, CITYSCAPES_LABEL_IDS, CITYSCAPES_MAX_LABEL_ID } from "./classes.ts";
import { ADE_CLASSES, IGNORE_LABEL, VOC_CLASSES } from "./classes.ts";
import type { ListPosition, SkippedSample } from "./errors.ts";

/** One sample: an image file, its mask file, and where it was listed. */
export interface SampleRef extends ListPosition {
  /** The image's stem, e.g. `2007_000032`; unique within a dataset split. */
  readonly name: string;
  /** Path of the image (JPEG or PNG). */
  readonly image: string;
  /** Path of the mask (8-bit palette or grey PNG of raw label values). */
  readonly label: string;
  /** The domain (Cityscapes: the city), for domain-incremental tasks. */
  readonly domain?: string;
}

/** A dataset's label conventions. */
export interface DatasetInfo {
  /** `voc`, `ade20k` or `cityscapes` (the synthetic set is `voc`-shaped). */
  readonly id: "voc" | "ade20k" | "cityscapes";
  /** Names of the training classes, by training index. */
  readonly classNames: readonly string[];
  /** Raw mask value -> training index (255 for values that are void). */
  readonly rawToTrain: Uint8Array;
  /** 1 where a raw mask value is legal for this dataset, else 0. */
  readonly validRaw: Uint8Array;
  /** Human-readable description of the legal raw values, for errors. */
  readonly allowedRaw: string;
  /**
   * True when training index 0 is not a real class at test time, so evaluation
   * maps it to 255 (ADE20K's "other", as MiB does).
   */
  readonly zeroIgnoredAtEval: boolean;
}

/** A dataset split opened by a reader. */
export interface Dataset {
  readonly info: DatasetInfo;
  /** The dataset's root folder. */
  readonly root: string;
  /** The split's name (`train`, `val`, `train_aug`, `training`, ...). */
  readonly split: string;
  /** The list file the samples came from, when the layout has one. */
  readonly listFile?: string;
  /** The folder the masks were read from; part of the class-set cache key. */
  readonly labelDir: string;
  readonly samples: readonly SampleRef[];
  /** Samples left out because of missing files, under `skipBad`. */
  readonly skipped: readonly SkippedSample[];
}

/** A LUT that maps 0..maxValid to itself and everything else to 255. */
function identityLut(maxValid: number): Uint8Array {
  const lut = new Uint8Array(256).fill(IGNORE_LABEL);
  for (let v = 0; v <= maxValid; v++) lut[v] = v;
  return lut;
}

/** Marks 0..maxValid and 255 as legal raw values. */
function validRange(maxValid: number): Uint8Array {
  const valid = new Uint8Array(256);
  valid.fill(1, 0, maxValid + 1);
  valid[IGNORE_LABEL] = 1;
  return valid;
}

/** Pascal VOC (and the synthetic set): raw values are class indices 0..20, 255 = void. */
export const VOC_INFO: DatasetInfo = {
  id: "voc",
  classNames: VOC_CLASSES,
  rawToTrain: identityLut(20),
  validRaw: validRange(20),
  allowedRaw: "0..20 and 255",
  zeroIgnoredAtEval: false,
};

/** ADE20K: raw values 0..150; 0 ("other") trains as background and is ignored at test. */
export const ADE_INFO: DatasetInfo = {
  id: "ade20k",
  classNames: ADE_CLASSES,
  rawToTrain: identityLut(150),
  validRaw: validRange(150),
  allowedRaw: "0..150 and 255",
  zeroIgnoredAtEval: true,
};

/** Cityscapes: raw labelIds 0..33 map to the 19 trainIds; all others to 255. */
export const CITYSCAPES_INFO: DatasetInfo = {
  id: "cityscapes",
  classNames: CITYSCAPES_CLASSES,
  rawToTrain: (() => {
    const lut = new Uint8Array(256).fill(IGNORE_LABEL);
    CITYSCAPES_LABEL_IDS.forEach((labelId, trainId) => (lut[labelId] = trainId));
    return lut;
  })(),
  validRaw: validRange(CITYSCAPES_MAX_LABEL_ID),
  allowedRaw: `labelIds 0..${CITYSCAPES_MAX_LABEL_ID} and 255`,
  zeroIgnoredAtEval: false,
};
