/**
 * Options and data that cannot work stop `gsc` before step 0 trains, with a
 * message naming the option or file: real processes, and the run directory
 * checked for what they left (no checkpoint).
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Effect } from "effect";
import { checkDeviceFits } from "../../src/cli/fit.ts";
import { parseTrainOptions } from "../../src/cli/train_options.ts";
import { writeSyntheticVoc } from "../../src/data/mod.ts";
import { largestActivation } from "../../src/incremental/memory.ts";
import { ok, runGsc as gsc } from "./support.ts";

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

/** The files under a folder (none when it does not exist). */
const filesUnder = async (dir: string): Promise<string[]> => {
  if (!(await exists(dir))) return [];
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names;
};

const withTemp = async (body: (dir: string) => Promise<void>) => {
  const dir = await Deno.makeTempDir({ prefix: "gsc-upfront-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
};

Deno.test("--batch-size 1, a crop no adapter can bind, --out on a file: refused, nothing written", async () => {
  await withTemp(async (dir) => {
    const common = ["train", "--data-root", `${dir}/data`, "--out", `${dir}/run`, "--quiet"];
    const one = await gsc(...common, "--batch-size", "1");
    assertEquals(one.code, 2, one.stderr);
    assert(one.stderr.includes("error: --batch-size: must be >= 2, got 1: batch norm"), one.stderr);
    assert(one.stderr.includes("--step0 and --freeze-bn-next"), one.stderr);

    const huge = await gsc(...common, "--crop", "100000");
    assertEquals(huge.code, 2, huge.stderr);
    assert(
      huge.stderr.includes("error: --crop: 100000: one training iteration needs"),
      huge.stderr,
    );
    assert(huge.stderr.includes("8 x 100000 x 100000 x 21 f32"), huge.stderr);
    assert(/the largest crop that fits is \d+/.test(huge.stderr), huge.stderr);
    assert(!huge.stderr.includes("Array buffer allocation failed"), huge.stderr);

    // Neither wrote the synthetic set or created the run directory.
    assertEquals(await filesUnder(dir), []);

    await Deno.writeTextFile(`${dir}/file`, "");
    const onFile = await gsc("train", "--data-root", `${dir}/data`, "--out", `${dir}/file`);
    assertEquals(onFile.code, 2, onFile.stderr);
    assert(onFile.stderr.includes(`--out: '${dir}/file' is a file, not a run directory`));
    const below = await gsc("train", "--data-root", `${dir}/data`, "--out", `${dir}/file/run`);
    assert(below.stderr.includes(`'${dir}/file' is a file`), below.stderr);
    assertEquals(await filesUnder(dir), ["file"]);
  });
});

Deno.test("the adapter's own binding limit is checked against crop and batch size", async () => {
  const limits = { maxBufferSize: 2 ** 31 - 1, maxStorageBufferBindingSize: 2 ** 27 };
  const config = (...argv: string[]) => ok(parseTrainOptions(argv)).config;
  const fits = await Effect.runPromise(Effect.result(checkDeviceFits(config(), limits)));
  assertEquals(fits._tag, "Success");
  const big = config("--crop", "512", "--batch-size", "8");
  assertEquals(largestActivation({ ...big, classes: 21 }), {
    bytes: 8 * 512 * 512 * 21 * 4,
    what: "the logits at full resolution, 8 x 512 x 512 x 21 f32",
  });
  const crop = await Effect.runPromise(Effect.flip(checkDeviceFits(big, limits)));
  assertEquals(
    crop.message,
    "--crop: 512: one training iteration needs a buffer of 168 MiB (the logits at full " +
      "resolution, 8 x 512 x 512 x 21 f32), more than this adapter's " +
      "maxStorageBufferBindingSize (128 MiB); at --batch-size 8 the largest crop that fits is " +
      "446 (lower --crop or --batch-size)",
  );
  // 446 fits, 447 does not: 8 * 447^2 * 21 * 4 > 2^27 >= 8 * 446^2 * 21 * 4.
  assert(8 * 446 * 446 * 21 * 4 <= 2 ** 27 && 8 * 447 * 447 * 21 * 4 > 2 ** 27);
  const batch = await Effect.runPromise(
    Effect.flip(checkDeviceFits(config("--batch-size", "40000", "--crop", "16"), limits)),
  );
  assert(batch.message.startsWith("--batch-size: 40000: "), batch.message);
  assert(batch.message.includes("even at the smallest crop (16)"), batch.message);
});

Deno.test("a new synthetic root is announced; a step short of one batch stops before step 0", async () => {
  await withTemp(async (dir) => {
    const run = await gsc(
      // Every later step of 15-1 has about 630 of the 6000 training images, fewer than a batch.
      ...["train", "--data-root", `${dir}/typo`, "--batch-size", "1000", "--crop", "16"],
      ...["--out", `${dir}/run`, "--quiet"],
    );
    assertEquals(run.code, 1, run.stderr);
    assert(
      run.stderr.includes(
        `note: no synthetic set in --data-root ${dir}/typo (not the default data/synthetic-voc`,
      ),
      run.stderr,
    );
    assert(run.stderr.includes("writing a new one there"), run.stderr);
    assert(run.stderr.includes("error: --batch-size 1000: every step needs at least one full"));
    assert(/step 1 \(classes 16\) has \d+,/.test(run.stderr), run.stderr);
    assert(await exists(`${dir}/typo/ImageSets/Segmentation/train.txt`));
    assertEquals(await filesUnder(`${dir}/run/checkpoints`), []);
  });
});

Deno.test("a corrupt evaluation image stops the run before step 0, naming the file", async () => {
  await withTemp(async (dir) => {
    const data = `${dir}/data`;
    await Effect.runPromise(
      writeSyntheticVoc({ root: data, size: 32, counts: { train: 24, val: 2, test: 4 }, seed: 3 }),
    );
    const names = (await Deno.readTextFile(`${data}/ImageSets/Segmentation/test.txt`)).split("\n");
    const image = `${data}/JPEGImages/${names[2]}.jpg`;
    await Deno.writeFile(image, (await Deno.readFile(image)).subarray(0, 50));
    const run = await gsc(
      ...["train", "--data-root", data, "--task", "19-1", "--batch-size", "2", "--crop", "32"],
      ...["--out", `${dir}/run`, "--quiet"],
    );
    assertEquals(run.code, 1, run.stderr);
    assert(run.stderr.includes(`error: corrupt file ${image}`), run.stderr);
    assert(run.stderr.includes("test.txt:3"), run.stderr);
    assertEquals(await filesUnder(`${dir}/run/checkpoints`), []);
  });
});

Deno.test("eval of a step without checkpoint names the finished steps", async () => {
  await withTemp(async (dir) => {
    const { config } = ok(parseTrainOptions(["--task", "19-1", "--out", dir]));
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config));
    await Deno.mkdir(`${dir}/checkpoints`);
    const none = await gsc("eval", "--run", dir, "--step", "1");
    assertEquals(none.code, 1, none.stderr);
    assert(none.stderr.includes("no step is finished yet"), none.stderr);
    await Deno.writeFile(`${dir}/checkpoints/step-0.safetensors`, new Uint8Array());
    const early = await gsc("eval", "--run", dir, "--step", "1");
    assertEquals(
      early.stderr.trim(),
      `error: --step 1: step 1 of ${dir} has no checkpoint yet ` +
        `(${dir}/checkpoints/step-1.safetensors); finished: step 0`,
    );
    const beyond = await gsc("eval", "--run", dir, "--step", "4");
    assert(beyond.stderr.includes("--step 4: the run's task has steps 0..1"), beyond.stderr);
  });
});
