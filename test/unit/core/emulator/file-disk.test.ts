import assert from "node:assert/strict";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { FileDisk } from "../../../../src/core/emulator/file-disk";

const get = (d: FileDisk, start: number, length: number): Promise<Uint8Array> => new Promise((r) => d.get(start, length, r));
const set = (d: FileDisk, start: number, data: Uint8Array): Promise<void> => new Promise((r) => d.set(start, data, r));

test("a file disk is sparse when made, reads zeros, and keeps what is written in the file, not in memory", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-disk-"));
  try {
    const file = path.join(dir, "disk.img");
    const size = 8 * 1024 ** 3;
    const disk = new FileDisk(file, size);
    assert.equal(disk.byteLength, size);
    const made = await stat(file);
    assert.equal(made.size, size);
    assert.ok(made.blocks * 512 < 1024 * 1024, "an 8 GiB disk takes (almost) no space until written");
    assert.deepEqual(await get(disk, size - 1024, 1024), new Uint8Array(1024));
    await set(disk, 4096 * 1000 + 512, Buffer.from("sector data"));
    await set(disk, size - 512, Buffer.alloc(512, 7));
    assert.equal(Buffer.from(await get(disk, 4096 * 1000 + 512, 11)).toString(), "sector data");
    disk.close();
    // Another opening (a restored machine) sees the same bytes; its size is not shrunk to a smaller request.
    const again = new FileDisk(file, 1024 * 1024);
    assert.equal(again.byteLength, size);
    assert.deepEqual(await get(again, size - 512, 512), new Uint8Array(512).fill(7));
    assert.deepEqual(again.get_state(), [size]);
    again.set_state([size]);
    assert.throws(() => again.set_state([size - 512]), /does not belong to this state/);
    assert.throws(() => again.get(size - 511, 512, () => undefined), /past the end/);
    again.close();
    const handle = await open(file, "r");
    const { buffer } = await handle.read(Buffer.alloc(11), 0, 11, 4096 * 1000 + 512);
    await handle.close();
    assert.equal(buffer.toString(), "sector data", "the bytes are in the host file");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a disk size that is not whole sectors is refused and makes no file", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-disk-"));
  try {
    const file = path.join(dir, "disk.img");
    assert.throws(() => new FileDisk(file, 1000), /multiple of 512/);
    await assert.rejects(stat(file), /ENOENT/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
