/**
 * Each image's set of labels (training indices, 255 included when present),
 * computed once by reading every mask and cached in a JSON file beside the
 * lists (`class-sets.json`). The cache is keyed by list file and mask folder;
 * an entry is reused only while the list file's and the mask's size and
 * modification time are unchanged, so edited data is never read stale.
 * With `validateImages` the same pass also decodes every image and checks
 * its size against the mask (a full {@link readSample}), and the cache
 * remembers the image's stamp too, so a dataset is fully validated once.
 *
 * @module
 */
import { Effect } from "effect";
import type { Dataset, SampleRef } from "./dataset.ts";
import type { SampleError, SkippedSample } from "./errors.ts";
import { dirName, type FileStamp, fileStamp, joinPath } from "./files.ts";
import { classSetOf, readLabel, readSample } from "./sample.ts";
import { writeFileAtomically } from "../io/atomic.ts";

/** Options of {@link computeClassSets}. */
export interface ClassSetOptions {
  /** Cache file; default `class-sets.json` beside the list file (or in the root). */
  readonly cacheFile?: string;
  /** Leave out samples whose mask is bad (reported in `skipped`) instead of failing. */
  readonly skipBad?: boolean;
  /** Masks decoded at once. Default 8. */
  readonly concurrency?: number;
  /**
   * Also decode every image and check that it matches its mask's size, so
   * no sample can fail later in a loader. Cached: a sample is decoded again
   * only when its image or mask changed.
   */
  readonly validateImages?: boolean;
}

/** The class sets of a dataset's usable samples. */
export interface ClassSets {
  /** The samples whose mask was read, in list order. */
  readonly samples: readonly SampleRef[];
  /** `classSets[i]` is the sorted label set of `samples[i]`. */
  readonly classSets: readonly (readonly number[])[];
  readonly skipped: readonly SkippedSample[];
  /** How many sets came from the cache rather than from decoding. */
  readonly fromCache: number;
  readonly cacheFile: string;
  /** Why the cache could not be written (e.g. a read-only dataset); the sets are still right. */
  readonly cacheWriteError?: string;
}

/** One cached mask; `image` is the stamp of the image when it was validated with it. */
interface CachedSet extends FileStamp {
  readonly classes: readonly number[];
  readonly image?: FileStamp;
}

/** One list's cache entry. */
interface CacheEntry {
  readonly list?: FileStamp;
  readonly masks: Record<string, CachedSet>;
}

/** The cache file's content. */
interface CacheFile {
  readonly version: 1;
  readonly entries: Record<string, CacheEntry>;
}

/** Bump when the meaning of the cached sets changes. */
const CACHE_VERSION = 1;

const sameStamp = (a: FileStamp | undefined, b: FileStamp | undefined): boolean =>
  a !== undefined && b !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs;

/** Path relative to the root when inside it: keeps the cache valid if the folder is moved. */
const relativeTo = (root: string, path: string): string =>
  path.startsWith(root + "/") ? path.slice(root.length + 1) : path;

/** The cache key of a dataset split: its dataset, list file and mask folder. */
export function classSetCacheKey(dataset: Dataset): string {
  const list = dataset.listFile === undefined
    ? `split:${dataset.split}`
    : relativeTo(dataset.root, dataset.listFile);
  return `${dataset.info.id}|${list}|${relativeTo(dataset.root, dataset.labelDir)}`;
}

/** The default cache file of a dataset split. */
export function defaultClassSetCacheFile(dataset: Dataset): string {
  return joinPath(
    dataset.listFile === undefined ? dataset.root : dirName(dataset.listFile),
    "class-sets.json",
  );
}

async function loadCache(file: string): Promise<CacheFile> {
  try {
    const parsed = JSON.parse(await Deno.readTextFile(file)) as CacheFile;
    if (parsed?.version === CACHE_VERSION && typeof parsed.entries === "object") return parsed;
  } catch {
    // A missing or unreadable cache is rebuilt; it only saves time.
  }
  return { version: CACHE_VERSION, entries: {} };
}

/** Writes atomically, so a crash never leaves half a cache. */
async function saveCache(file: string, cache: CacheFile): Promise<void> {
  await writeFileAtomically(file, JSON.stringify(cache));
}

/** Computes (or loads from the cache) the label set of every sample of a dataset. */
export function computeClassSets(
  dataset: Dataset,
  options: ClassSetOptions = {},
): Effect.Effect<ClassSets, SampleError> {
  return Effect.gen(function* () {
    const cacheFile = options.cacheFile ?? defaultClassSetCacheFile(dataset);
    const key = classSetCacheKey(dataset);
    const cache = yield* Effect.promise(() => loadCache(cacheFile));
    const listStamp = dataset.listFile === undefined
      ? undefined
      : yield* Effect.promise(() => fileStamp(dataset.listFile!));
    const previous = cache.entries[key];
    const reusable = previous !== undefined &&
        (dataset.listFile === undefined || sameStamp(previous.list, listStamp))
      ? previous.masks
      : {};
    const validate = options.validateImages ?? false;
    const results = yield* Effect.forEach(
      dataset.samples,
      (ref) =>
        Effect.gen(function* () {
          const stamp = yield* Effect.promise(() => fileStamp(ref.label));
          const image = validate ? yield* Effect.promise(() => fileStamp(ref.image)) : undefined;
          const cached = reusable[ref.name];
          if (
            stamp !== undefined && sameStamp(cached, stamp) &&
            (!validate || sameStamp(cached.image, image))
          ) {
            return { ref, stamp, image: cached.image, classes: cached.classes, cached: true };
          }
          if (validate) {
            const sample = yield* Effect.result(readSample(ref, dataset.info));
            if (sample._tag === "Failure") return { ref, error: sample.failure };
            const classes = classSetOf(sample.success.label.data);
            return { ref, stamp: stamp!, image, classes, cached: false };
          }
          const label = yield* Effect.result(readLabel(ref, dataset.info));
          if (label._tag === "Failure") return { ref, error: label.failure };
          return {
            ref,
            stamp: stamp!,
            image: undefined,
            classes: classSetOf(label.success.data),
            cached: false,
          };
        }),
      { concurrency: options.concurrency ?? 8 },
    );
    const samples: SampleRef[] = [];
    const classSets: (readonly number[])[] = [];
    const skipped: SkippedSample[] = [];
    const masks: Record<string, CachedSet> = {};
    let fromCache = 0;
    for (const result of results) {
      if ("error" in result && result.error !== undefined) {
        if (!options.skipBad) return yield* Effect.fail(result.error);
        skipped.push({ name: result.ref.name, error: result.error });
        continue;
      }
      const ok = result as {
        ref: SampleRef;
        stamp: FileStamp;
        image: FileStamp | undefined;
        classes: readonly number[];
        cached: boolean;
      };
      samples.push(ok.ref);
      classSets.push(ok.classes);
      const { size, mtimeMs } = ok.stamp;
      masks[ok.ref.name] = ok.image === undefined
        ? { size, mtimeMs, classes: ok.classes }
        : { size, mtimeMs, classes: ok.classes, image: ok.image };
      if (ok.cached) fromCache++;
    }
    let cacheWriteError: string | undefined;
    if (
      fromCache !== samples.length || previous === undefined ||
      Object.keys(reusable).length !== samples.length
    ) {
      cache.entries[key] = { list: listStamp, masks };
      cacheWriteError = yield* Effect.promise(() =>
        saveCache(cacheFile, cache).then(() => undefined, (error) => String(error))
      );
    }
    return { samples, classSets, skipped, fromCache, cacheFile, cacheWriteError };
  });
}
