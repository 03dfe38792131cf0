import { test } from "node:test";
import assert from "node:assert/strict";
import { createWriteStream } from "node:fs";
import { appendFile, readFile, truncate, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import * as tar from "tar-stream";
import { debianMadeBy, isCurrentDebianImage, layerFromGuestTar } from "../../../../../src/core/engine/images/debian-images";
import { withTempDir } from "./tar-fixtures";

const EPOCH_MS = 1_700_000_000_000;

/** A tar as the guest's busybox writes it ("./" names), then the output disk's unwritten zeros. */
async function guestDisk(file: string, entries: Array<{ header: Partial<tar.Header> & { name: string }; body?: string }>, zeros: number): Promise<void> {
  const pack = tar.pack();
  const writing = pipeline(pack as unknown as NodeJS.ReadableStream, createWriteStream(file));
  for (const e of entries) pack.entry(e.header, e.body ?? "");
  pack.finalize();
  await writing;
  await appendFile(file, Buffer.alloc(zeros));
}

async function entriesOf(file: string): Promise<Array<{ name: string; type: string; linkname?: string | null; mtime?: Date; body: string }>> {
  const extract = tar.extract();
  const reading = pipeline((await import("node:fs")).createReadStream(file), extract);
  const out: Array<{ name: string; type: string; linkname?: string | null; mtime?: Date; body: string }> = [];
  for await (const e of extract) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    out.push({ name: e.header.name, type: e.header.type ?? "file", linkname: e.header.linkname, mtime: e.header.mtime, body: Buffer.concat(chunks).toString() });
  }
  await reading;
  return out;
}

test("the guest's tar becomes the layer: no ./ prefix, lost+found and mount points' contents left out, links kept, times clamped; the zeros after it are not read as entries", async () => {
  await withTempDir(async (dir) => {
    const disk = path.join(dir, "output.img");
    const late = new Date(EPOCH_MS + 86_400_000);
    const early = new Date(EPOCH_MS - 86_400_000);
    await guestDisk(
      disk,
      [
        { header: { name: "./", type: "directory", mode: 0o755, mtime: late } },
        { header: { name: "./lost+found/", type: "directory", mode: 0o700, mtime: late } },
        { header: { name: "./lost+found/#12", type: "file", mode: 0o644, mtime: late }, body: "orphan" },
        { header: { name: "./proc/", type: "directory", mode: 0o555, mtime: late } },
        { header: { name: "./tmp/", type: "directory", mode: 0o1777, mtime: late } },
        { header: { name: "./tmp/build-scratch", type: "file", mode: 0o644, mtime: late }, body: "x" },
        { header: { name: "./usr/", type: "directory", mode: 0o755, mtime: early } },
        { header: { name: "./usr/bin/", type: "directory", mode: 0o755, mtime: late } },
        { header: { name: "./usr/bin/gzip", type: "file", mode: 0o755, mtime: early }, body: "gzip" },
        { header: { name: "./usr/bin/gunzip", type: "link", linkname: "./usr/bin/gzip", mode: 0o755, mtime: late } },
        { header: { name: "./bin", type: "symlink", linkname: "usr/bin", mode: 0o777, mtime: late } },
        { header: { name: `./usr/share/${"long-".repeat(30)}name`, type: "file", mode: 0o644, mtime: late }, body: "long" },
      ],
      1024 * 1024,
    );
    const layer = path.join(dir, "layer.tar");
    await layerFromGuestTar(disk, layer);
    const got = await entriesOf(layer);
    assert.deepEqual(
      got.map((e) => [e.name, e.type, e.linkname ?? null, e.body]),
      [
        ["proc/", "directory", null, ""],
        ["tmp/", "directory", null, ""],
        ["usr/", "directory", null, ""],
        ["usr/bin/", "directory", null, ""],
        ["usr/bin/gzip", "file", null, "gzip"],
        ["usr/bin/gunzip", "link", "usr/bin/gzip", ""],
        ["bin", "symlink", "usr/bin", ""],
        [`usr/share/${"long-".repeat(30)}name`, "file", null, "long"],
      ],
    );
    for (const e of got) assert.ok(e.mtime!.getTime() <= EPOCH_MS, `${e.name} is clamped`);
    assert.equal(got.find((e) => e.name === "usr/")!.mtime!.getTime(), early.getTime(), "an earlier time is kept");
  });
});

test("a guest tar that was cut short (no end blocks before the disk ends) is refused", async () => {
  await withTempDir(async (dir) => {
    const disk = path.join(dir, "output.img");
    await guestDisk(disk, [{ header: { name: "./big", type: "file", mode: 0o644 }, body: "y".repeat(4096) }], 0);
    const whole = await readFile(disk);
    await writeFile(disk, whole.subarray(0, 512 + 1024)); // the header and part of the body
    await truncate(disk, 512 + 1024);
    await assert.rejects(layerFromGuestTar(disk, path.join(dir, "layer.tar")), /cut short/);
  });
});

test("an image this Hangar made is kept, an older revision's is made again, anyone else's is theirs", () => {
  assert.equal(isCurrentDebianImage([{ created_by: debianMadeBy("bookworm-slim", 88) }], "bookworm-slim"), "current");
  assert.equal(isCurrentDebianImage([{ created_by: debianMadeBy("bookworm-slim", 88).replace(/revision \d+/, "revision 0") }], "bookworm-slim"), "older");
  assert.equal(isCurrentDebianImage([{ created_by: debianMadeBy("bookworm", 88) }], "bookworm-slim"), "other");
  assert.equal(isCurrentDebianImage([{ created_by: "/bin/sh -c #(nop) ADD file:abc in / " }, { created_by: 'CMD ["bash"]' }], "bookworm"), "other");
});
