/**
 * The table's step-0 store (examples/table.ts): a finished FT run's step 0 is
 * copied beside the json, and a later invocation whose run folders are gone
 * loads that copy for every task sharing the first step, for the same seed,
 * only while the FT run is recorded. Runs tests/support/table_step0_child.ts
 * in a temporary folder, since the table's paths are relative.
 */
const child = new URL("../support/table_step0_child.ts", import.meta.url).pathname;
const config = new URL("../../deno.json", import.meta.url).pathname;

Deno.test("the table stores FT's step 0 beside the json and loads it once the run folder is gone", async () => {
  const folder = await Deno.makeTempDir({ prefix: "gsc-table-step0-" });
  try {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", config, child],
      cwd: folder,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stdout);
    if (code !== 0) throw new Error(`child failed: ${new TextDecoder().decode(stderr)}`);
    const result = JSON.parse(text.trim().split("\n").at(-1)!);
    const expected = {
      copied: true,
      otherRow: false,
      found: "results/synthetic-step0/15-5-seed-1.safetensors",
      unrecordedTrains: true,
      unrecorded: undefined,
      otherSeed: undefined,
    };
    for (const [key, value] of Object.entries(expected)) {
      if (result[key] !== value) {
        throw new Error(
          `${key}: ${JSON.stringify(result[key])}, expected ${JSON.stringify(value)}`,
        );
      }
    }
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});
