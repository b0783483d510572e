/**
 * The default synthetic root is written again when it holds the benchmark
 * from an older version with fewer training images; any other set is left
 * alone.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { shortDefaultSet } from "../../src/incremental/data.ts";
import { DEFAULT_SYNTHETIC_ROOT, SYNTHETIC_DEFAULT_COUNTS } from "../../src/data/mod.ts";

/** The `synthetic.json` of the default benchmark with `train` training images. */
const meta = (train: number, extra: Record<string, unknown> = {}) => ({
  generator: "gsc-webgpu synthetic VOC",
  version: 1,
  seed: 0,
  size: 64,
  counts: { train, val: 150, test: 150 },
  jpegQuality: 90,
  voidBorder: true,
  ...extra,
});

Deno.test("synthetic upgrade: an older default set with fewer training images is short", () => {
  assertEquals(shortDefaultSet(DEFAULT_SYNTHETIC_ROOT, meta(600)), 600);
  assertEquals(
    shortDefaultSet(DEFAULT_SYNTHETIC_ROOT, meta(600, { classSet: "benchmark" })),
    600,
  );
  assertEquals(
    shortDefaultSet(DEFAULT_SYNTHETIC_ROOT, meta(SYNTHETIC_DEFAULT_COUNTS.train)),
    undefined,
  );
  assertEquals(
    shortDefaultSet(DEFAULT_SYNTHETIC_ROOT, meta(SYNTHETIC_DEFAULT_COUNTS.train + 1)),
    undefined,
  );
});

Deno.test("synthetic upgrade: other roots, seeds, sizes, class sets and files are left alone", () => {
  assertEquals(shortDefaultSet("data/my-synthetic", meta(600)), undefined);
  assertEquals(shortDefaultSet(DEFAULT_SYNTHETIC_ROOT, meta(600, { seed: 3 })), undefined);
  assertEquals(shortDefaultSet(DEFAULT_SYNTHETIC_ROOT, meta(600, { size: 96 })), undefined);
  assertEquals(
    shortDefaultSet(DEFAULT_SYNTHETIC_ROOT, meta(600, { classSet: "pretrain" })),
    undefined,
  );
  assertEquals(shortDefaultSet(DEFAULT_SYNTHETIC_ROOT, meta(600, { jpegQuality: 80 })), undefined);
  assertEquals(
    shortDefaultSet(
      DEFAULT_SYNTHETIC_ROOT,
      meta(600, { counts: { train: 600, val: 10, test: 150 } }),
    ),
    undefined,
  );
  assertEquals(shortDefaultSet(DEFAULT_SYNTHETIC_ROOT, null), undefined);
  assertEquals(shortDefaultSet(DEFAULT_SYNTHETIC_ROOT, "not an object"), undefined);
});
