import { writeFileAtomically } from "../../src/io/atomic.ts";

Deno.test("the atomic writer replaces a file whole and leaves no temporary file, even on failure", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/nested/out.txt`;
    await writeFileAtomically(path, "first", { makeFolder: true });
    await writeFileAtomically(path, new TextEncoder().encode("second"));
    if (await Deno.readTextFile(path) !== "second") throw new Error("not replaced");
    // A folder in the way: the rename fails, the error reaches the caller, no temporary stays.
    await Deno.mkdir(`${dir}/nested/blocked/inner`, { recursive: true });
    let failed = false;
    await writeFileAtomically(`${dir}/nested/blocked`, "x").catch(() => (failed = true));
    if (!failed) throw new Error("writing over a folder must fail");
    const names = [];
    for await (const e of Deno.readDir(`${dir}/nested`)) names.push(e.name);
    if (names.sort().join() !== "blocked,out.txt") throw new Error(`left ${names}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
