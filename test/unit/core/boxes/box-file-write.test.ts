// Writing a .box: the file appears whole at its place or not at all (temp,
// fsync, rename), also when the write is cancelled half-way.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { writeBoxFile } from "../../../../src/core/boxes/box-archive";
import { CancelledError } from "../../../../src/core/util/errors";

async function withBoxFiles(fn: (dir: string, out: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-boxwrite-"));
  try {
    await writeFile(path.join(dir, "metadata.json"), "{}\n");
    // Random bytes: gzip takes long enough over 64 MB for a cancel to land in the middle.
    await writeFile(path.join(dir, "state.bin"), randomBytes(64 * 1024 * 1024));
    await fn(dir, path.join(dir, "out", "m.box"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("a box file is written whole at its place, nothing left beside it", () =>
  withBoxFiles(async (dir, out) => {
    await import("node:fs/promises").then((fs) => fs.mkdir(path.dirname(out)));
    await writeBoxFile(dir, ["metadata.json", "state.bin"], out);
    assert.deepEqual(await readdir(path.dirname(out)), ["m.box"]);
  }));

test("a cancel half-way through leaves no box file and no temporary file, and says it was cancelled", () =>
  withBoxFiles(async (dir, out) => {
    await import("node:fs/promises").then((fs) => fs.mkdir(path.dirname(out)));
    const abort = new AbortController();
    const writing = writeBoxFile(dir, ["metadata.json", "state.bin"], out, abort.signal);
    setTimeout(() => abort.abort(), 100);
    await assert.rejects(writing, (err) => err instanceof CancelledError && /cancelled; nothing was written/.test(err.message));
    assert.deepEqual(await readdir(path.dirname(out)), []);
  }));
