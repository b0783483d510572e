/**
 * A full pass over a dataset that decodes every image and mask, so bad
 * samples (corrupt files, size mismatches, foreign labels) are found before
 * training rather than in the middle of an epoch.
 *
 * @module
 */
import { Effect } from "effect";
import type { Dataset, SampleRef } from "./dataset.ts";
import type { SampleError, SkippedSample } from "./errors.ts";
import { readSample } from "./sample.ts";

/** The samples that decode cleanly and, under `skipBad`, the ones that do not. */
export function validateSamples(
  dataset: Dataset,
  options: { readonly skipBad?: boolean; readonly concurrency?: number } = {},
): Effect.Effect<{ samples: SampleRef[]; skipped: SkippedSample[] }, SampleError> {
  return Effect.gen(function* () {
    const results = yield* Effect.forEach(
      dataset.samples,
      (ref) => Effect.result(readSample(ref, dataset.info)),
      { concurrency: options.concurrency ?? 8 },
    );
    const samples: SampleRef[] = [];
    const skipped: SkippedSample[] = [...dataset.skipped];
    for (let i = 0; i < results.length; i++) {
      const result = results[i];
      if (result._tag === "Success") {
        samples.push(dataset.samples[i]);
        continue;
      }
      if (!options.skipBad) return yield* Effect.fail(result.failure);
      skipped.push({ name: dataset.samples[i].name, error: result.failure });
    }
    return { samples, skipped };
  });
}
