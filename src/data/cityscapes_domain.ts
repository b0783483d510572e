/**
 * The Cityscapes domain-incremental protocol as RCIL's (and PLOP's) code runs
 * it (`dataset/cityscapes_domain.py`, `tasks.py`): the 21 cities of `train`
 * and `val` numbered by `city_to_id` (its order, not alphabetical), all images
 * of both folders in one list (sorted paths of `train`, then of `val`); a
 * step keeps the images of its cities in list order, shuffles them with
 * NumPy's `RandomState(1)` and trains on the first `int(0.8 n)`. The test set
 * after step t is the rest (the last 20%) of the same recipe applied to every
 * city seen so far. Because the shuffle depends on the list it shuffles, a
 * test image after step t may have been a training image of an earlier step,
 * as in RCIL (docs/datasets.md).
 *
 * @module
 */
import type { SampleRef } from "./dataset.ts";

/** RCIL's `city_to_id`: the domain order of the tasks (`11-5` = ids 0..10, then 11..15, 16..20). */
export const RCIL_CITY_ORDER: readonly string[] = [
  "aachen",
  "bremen",
  "darmstadt",
  "erfurt",
  "hanover",
  "krefeld",
  "strasbourg",
  "tubingen",
  "weimar",
  "bochum",
  "cologne",
  "dusseldorf",
  "hamburg",
  "jena",
  "monchengladbach",
  "stuttgart",
  "ulm",
  "zurich",
  "frankfurt",
  "lindau",
  "munster",
];

/** The three cities of Cityscapes' `val` folder (the rest are in `train`). */
export const CITYSCAPES_VAL_CITIES: readonly string[] = ["frankfurt", "lindau", "munster"];

/** MT19937 seeded as NumPy's legacy `RandomState(seed)` (`init_genrand`). */
export class Mt19937 {
  private readonly state = new Uint32Array(624);
  private index = 624;

  /** Seeds the generator with a 32-bit integer. */
  constructor(seed: number) {
    const mt = this.state;
    mt[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  /** The next 32-bit output. */
  nextUint32(): number {
    const mt = this.state;
    if (this.index >= 624) {
      for (let i = 0; i < 624; i++) {
        const y = (mt[i] & 0x80000000) | (mt[(i + 1) % 624] & 0x7fffffff);
        mt[i] = mt[(i + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.index = 0;
    }
    let y = mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** NumPy's legacy `random_interval(max)`: uniform in 0..max by masked rejection. */
  interval(max: number): number {
    if (max === 0) return 0;
    let mask = max;
    for (const shift of [1, 2, 4, 8, 16]) mask |= mask >>> shift;
    mask >>>= 0;
    while (true) {
      const value = (this.nextUint32() & mask) >>> 0;
      if (value <= max) return value;
    }
  }
}

/** `np.random.RandomState(seed).shuffle(items)` on a copy (Fisher-Yates from the end). */
export function numpyShuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const rng = new Mt19937(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.interval(i);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** The samples in RCIL's list order: `train` paths sorted, then `val` paths sorted. */
export function rcilListOrder(samples: readonly SampleRef[]): SampleRef[] {
  const isVal = (s: SampleRef) => /[\\/]leftImg8bit[\\/]val[\\/]/.test(s.image);
  const byPath = (
    a: SampleRef,
    b: SampleRef,
  ) => (a.image < b.image ? -1 : a.image > b.image ? 1 : 0);
  return [
    ...samples.filter((s) => !isVal(s)).sort(byPath),
    ...samples.filter(isVal).sort(byPath),
  ];
}

/** One subset of RCIL's recipe: the images of `cities`, shuffled, split 80 / 20. */
export function rcilDomainSubset(
  ordered: readonly SampleRef[],
  cities: readonly string[],
  part: "train" | "test",
): SampleRef[] {
  const wanted = new Set(cities);
  const kept = numpyShuffle(
    ordered.filter((s) => s.domain !== undefined && wanted.has(s.domain)),
    1,
  );
  const trainLength = Math.trunc(0.8 * kept.length);
  return part === "train" ? kept.slice(0, trainLength) : kept.slice(trainLength);
}
