/**
 * Class names of the supported datasets, and the Cityscapes labelId -> trainId
 * table. Index = class index used in training targets (0 = background for VOC
 * and ADE20K), 255 = void/ignore everywhere.
 *
 * @module
 */

/** The label every dataset uses for "ignore this pixel". */
export const IGNORE_LABEL = 255;

// deno-fmt-ignore
/** Pascal VOC 2012: background + 20 object classes. */
export const VOC_CLASSES: readonly string[] = [
  "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
  "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
  "train", "tvmonitor",
];

// deno-fmt-ignore
/** ADE20K SceneParsing (150 classes); index 0 is the raw "other" label. */
export const ADE_CLASSES: readonly string[] = [
  "other", "wall", "building", "sky", "floor", "tree", "ceiling", "road", "bed", "windowpane",
  "grass", "cabinet", "sidewalk", "person", "earth", "door", "table", "mountain", "plant",
  "curtain", "chair", "car", "water", "painting", "sofa", "shelf", "house", "sea", "mirror",
  "rug", "field", "armchair", "seat", "fence", "desk", "rock", "wardrobe", "lamp", "bathtub",
  "railing", "cushion", "base", "box", "column", "signboard", "chest of drawers", "counter",
  "sand", "sink", "skyscraper", "fireplace", "refrigerator", "grandstand", "path", "stairs",
  "runway", "case", "pool table", "pillow", "screen door", "stairway", "river", "bridge",
  "bookcase", "blind", "coffee table", "toilet", "flower", "book", "hill", "bench", "countertop",
  "stove", "palm", "kitchen island", "computer", "swivel chair", "boat", "bar", "arcade machine",
  "hovel", "bus", "towel", "light", "truck", "tower", "chandelier", "awning", "streetlight",
  "booth", "television receiver", "airplane", "dirt track", "apparel", "pole", "land",
  "bannister", "escalator", "ottoman", "bottle", "buffet", "poster", "stage", "van", "ship",
  "fountain", "conveyer belt", "canopy", "washer", "plaything", "swimming pool", "stool",
  "barrel", "basket", "waterfall", "tent", "bag", "minibike", "cradle", "oven", "ball", "food",
  "step", "tank", "trade name", "microwave", "pot", "animal", "bicycle", "lake", "dishwasher",
  "screen", "blanket", "sculpture", "hood", "sconce", "vase", "traffic light", "tray", "ashcan",
  "fan", "pier", "crt screen", "plate", "monitor", "bulletin board", "shower", "radiator",
  "glass", "clock", "flag",
];

// deno-fmt-ignore
/** Cityscapes' 19 evaluated classes, indexed by trainId. */
export const CITYSCAPES_CLASSES: readonly string[] = [
  "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
  "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus", "train",
  "motorcycle", "bicycle",
];

/**
 * Cityscapes labelId of each trainId (the official `labels.py` table): e.g.
 * labelId 7 (road) -> trainId 0. Every other labelId maps to 255.
 */
export const CITYSCAPES_LABEL_IDS: readonly number[] = [
  7,
  8,
  11,
  12,
  13,
  17,
  19,
  20,
  21,
  22,
  23,
  24,
  25,
  26,
  27,
  28,
  31,
  32,
  33,
];

/** Highest labelId a Cityscapes `*_gtFine_labelIds.png` may contain (33 = bicycle). */
export const CITYSCAPES_MAX_LABEL_ID = 33;

// deno-fmt-ignore
/**
 * The 21 Cityscapes cities (18 of `train`, 3 of `val`), sorted by name. The
 * domain-incremental tasks take them in RCIL's `city_to_id` order instead
 * (`RCIL_CITY_ORDER` in cityscapes_domain.ts).
 */
export const CITYSCAPES_CITIES: readonly string[] = [
  "aachen", "bochum", "bremen", "cologne", "darmstadt", "dusseldorf", "erfurt", "frankfurt",
  "hamburg", "hanover", "jena", "krefeld", "lindau", "monchengladbach", "munster", "strasbourg",
  "stuttgart", "tubingen", "ulm", "weimar", "zurich",
];
