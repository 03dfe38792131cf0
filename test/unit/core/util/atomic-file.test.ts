import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { writeFileAtomic } from "../../../../src/core/util/atomic-file";
import { FileExistsError } from "../../../../src/core/util/errors";

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), "hangar-atomic-"));
}

test("writes a new file and leaves no temporary file behind", async () => {
  const dir = await tempDir();
  try {
    await writeFileAtomic(path.join(dir, "a.txt"), "hello");
    assert.equal(await readFile(path.join(dir, "a.txt"), "utf8"), "hello");
    assert.deepEqual(await readdir(dir), ["a.txt"]);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test("replaces an existing file unless exclusive", async () => {
  const dir = await tempDir();
  const file = path.join(dir, "Vagrantfile");
  try {
    await writeFile(file, "old");
    await writeFileAtomic(file, "new");
    assert.equal(await readFile(file, "utf8"), "new");
    await assert.rejects(writeFileAtomic(file, "newer", { exclusive: true }), (err: unknown) => err instanceof FileExistsError && /already exists/.test(err.message));
    assert.equal(await readFile(file, "utf8"), "new", "an exclusive write must not touch the existing file");
    assert.deepEqual(await readdir(dir), ["Vagrantfile"], "a refused write must not leave its temporary file");
  } finally {
    await rm(dir, { recursive: true });
  }
});

test("a write into a missing folder fails and creates nothing", async () => {
  const dir = await tempDir();
  try {
    await assert.rejects(writeFileAtomic(path.join(dir, "missing", "x"), "data"), /ENOENT/);
    assert.deepEqual(await readdir(dir), []);
  } finally {
    await rm(dir, { recursive: true });
  }
});
