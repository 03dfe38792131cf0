import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { test } from "node:test";
import { sparseWriteStream } from "../../../../src/core/util/sparse-file";

test("a sparse write stream keeps every byte, leaves runs of zeros as holes, and ends at the stream's length", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-sparse-"));
  try {
    const file = path.join(dir, "disk.img");
    const MiB = 1024 * 1024;
    // Chunks that do not line up with 4 KiB blocks: data at the start, in the middle, and in the last partial block.
    const parts = [Buffer.from("head"), Buffer.alloc(30 * MiB + 123), Buffer.from("middle"), Buffer.alloc(20 * MiB - 7), Buffer.from("tail"), Buffer.alloc(5)];
    await pipeline(Readable.from(parts), sparseWriteStream(file, 0o600));
    const written = await readFile(file);
    assert.ok(written.equals(Buffer.concat(parts)));
    const st = await stat(file);
    assert.equal(st.mode & 0o777, 0o600);
    assert.ok(st.blocks * 512 < 1 * MiB, `50 MB of mostly zeros takes ${st.blocks * 512} bytes`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
