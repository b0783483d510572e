/**
 * A Cityscapes domain-incremental run (11-5 on the synthetic Cityscapes-layout
 * set, PLOP: old model, POD, same classifier at every step) killed with SIGKILL
 * during domain step 1 and resumed with `--resume` ends with exactly the
 * metrics, `domains.csv` and PLOP CSV of an uninterrupted run; `gsc eval` of
 * the finished run's last step gives the metrics training wrote for it (RCIL's
 * test images of every seen city, one group per step, 19 classes).
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Effect } from "effect";
import { writeSyntheticCityscapes } from "../../src/data/synthetic/cityscapes.ts";
import { pollWhileRunning, runDeno } from "../support/train_cli.ts";

const trainArgs = (data: string, out: string) => [
  "run",
  "-A",
  "src/cli/main.ts",
  "train",
  ...["--dataset", "cityscapes", "--data-root", data, "--task", "11-5", "--method", "plop"],
  ...["--backbone", "small", "--output-stride", "8", "--crop", "32", "--batch-size", "4"],
  ...["--epochs", "1", "--epochs-next", "2", "--seed", "4", "--strips", "1", "--quiet"],
  ...["--out", out],
];

const run = async (args: string[]) => {
  const result = await runDeno(args);
  if (!result.success) throw new Error(`gsc train failed:\n${result.stderr}`);
};

const outputs = async (out: string) => ({
  final: JSON.parse(await Deno.readTextFile(`${out}/summary.json`)).final,
  domains: await Deno.readTextFile(`${out}/domains.csv`),
  plop: await Deno.readTextFile(`${out}/metrics.csv`),
});

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

Deno.test("a domain run killed with SIGKILL in step 1 and resumed equals an uninterrupted run", async () => {
  const root = await Deno.makeTempDir({ prefix: "gsc-domain-resume-" });
  let child: Deno.ChildProcess | undefined;
  let ended = false;
  try {
    const data = `${root}/data`;
    await Effect.runPromise(writeSyntheticCityscapes({ root: data, width: 32, imagesPerCity: 3 }));
    await run(trainArgs(data, `${root}/straight`));
    const straight = await outputs(`${root}/straight`);
    assertEquals(straight.domains.split("\n")[0].startsWith("domain step,cities,mIoU"), true);
    assertEquals(straight.domains.split("\n")[3].startsWith("2,ulm;zurich;frankfurt"), true);
    await run(["run", "-A", "src/cli/main.ts", "eval", "--run", `${root}/straight`, "--step", "2"]);
    const evaluated = [...Deno.readDirSync(`${root}/straight`)].find((e) =>
      e.name.startsWith("eval-step-2-")
    );
    const fields = (m: Record<string, unknown>) => {
      const { miouAll, miouOld, miouNew, domainMiou, domainImages, images, iou } = m;
      return { miouAll, miouOld, miouNew, domainMiou, domainImages, images, iou };
    };
    assertEquals(
      fields(JSON.parse(await Deno.readTextFile(`${root}/straight/${evaluated?.name}`))),
      fields(JSON.parse(await Deno.readTextFile(`${root}/straight/step-2.json`))),
    );

    const killedOut = `${root}/killed`;
    child = new Deno.Command(Deno.execPath(), {
      args: trainArgs(data, killedOut),
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const status = child.status.then((s) => (ended = true, s));
    const stderr = new Response(child.stderr).text();
    // Kill once domain step 0 is finished: the run is then inside domain step 1.
    await pollWhileRunning(child, () => exists(`${killedOut}/step-0.json`), "domain step 0", {
      stderr,
    });
    child.kill("SIGKILL");
    assertEquals((await status).signal, "SIGKILL");
    await stderr;
    assertEquals(await exists(`${killedOut}/step-1.json`), false, "killed before step 1 ended");

    await run([...trainArgs(data, killedOut), "--resume"]);
    assertEquals(await outputs(killedOut), straight);
  } finally {
    if (child && !ended) {
      child.kill("SIGKILL");
      await child.status;
    }
    await Deno.remove(root, { recursive: true });
  }
});
