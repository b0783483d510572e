/**
 * A plain Pascal VOC 2012 root (no SBD: no `train_aug` list, no
 * `SegmentationClassAug/`) is refused by default with a message naming
 * `--train-split train`, and trains and evaluates with it: real processes on
 * a tiny VOC-layout root (palette masks in `SegmentationClass/`).
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { writeVoc } from "../data/fixtures.ts";
import { runGsc as gsc } from "./support.ts";

const json = async (path: string) => JSON.parse(await Deno.readTextFile(path));

Deno.test("plain VOC: refused without --train-split, trained and evaluated with --train-split train", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gsc-voc-plain-" });
  try {
    const voc = `${dir}/VOC2012`;
    await writeVoc(voc, "train", [
      { name: "a", classes: [0, 3] },
      { name: "b", classes: [0, 15, 255] },
      { name: "c", classes: [0, 20] },
      { name: "d", classes: [0, 20, 5] },
    ], 32);
    await writeVoc(
      voc,
      "val",
      [{ name: "v", classes: [0, 7, 20] }, { name: "w", classes: [0, 1] }],
      32,
    );
    const train = [
      ...["train", "--dataset", "voc", "--data-root", voc, "--task", "19-1", "--method", "ft"],
      ...["--backbone", "small", "--epochs", "1", "--epochs-next", "1", "--batch-size", "2"],
      ...["--crop", "32", "--strips", "0", "--quiet"],
    ];

    const refused = await gsc(...train, "--out", `${dir}/refused`);
    assertEquals(refused.code, 1, refused.stderr);
    assert(refused.stderr.includes(`${voc} has no train_aug list`), refused.stderr);
    assert(refused.stderr.includes("pass --train-split train"), refused.stderr);
    assert(!(await Deno.stat(`${dir}/refused/checkpoints/last.safetensors`).catch(() => null)));

    const run = `${dir}/run`;
    const trained = await gsc(...train, "--train-split", "train", "--out", run);
    assertEquals(trained.code, 0, trained.stderr);
    assertEquals((await json(`${run}/config.json`)).trainSplit, "train");
    const summary = await json(`${run}/summary.json`);
    assertEquals([summary.complete, summary.steps, summary.final.images], [true, 2, 2]);

    const evaluated = await gsc("eval", "--run", run);
    assertEquals(evaluated.code, 0, evaluated.stderr);
    assert(evaluated.stdout.startsWith("step 1: mIoU"), evaluated.stdout);
    assertEquals((await json(`${run}/eval-step-1-val.json`)).images, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
