// The container archive API helpers: decodePathStat reads the base64 JSON of
// X-Docker-Container-Path-Stat, the mode helpers read Go's FileMode type bits,
// listArchiveChildren finds a folder's direct children in an archive GET
// (folder-named, "./"-prefixed or bare entries), and readArchiveFile returns
// the one file an archive GET of a file holds, within a size limit.
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import * as tar from "tar-stream";
import { decodePathStat, isDirectoryMode, isSymlinkMode, listArchiveChildren, readArchiveFile } from "../../../../../src/core/docker/archive/container-archive";

const DIR = 2 ** 31;
const SYMLINK = 2 ** 27;
const MTIME = new Date("2024-03-01T10:00:00Z");

type Spec = { name: string; type?: "file" | "directory" | "symlink"; body?: string | Buffer; linkname?: string };

/** A tar stream of `entries`, built with tar-stream's pack. */
function archive(entries: Spec[]): Readable {
  const pack = tar.pack();
  for (const e of entries) {
    const type = e.type ?? (e.name.endsWith("/") ? "directory" : "file");
    if (type === "file") pack.entry({ name: e.name, type, mtime: MTIME, mode: 0o644 }, e.body ?? "");
    else pack.entry({ name: e.name, type, mtime: MTIME, mode: 0o755, ...(e.linkname ? { linkname: e.linkname } : {}) });
  }
  pack.finalize();
  return pack as unknown as Readable;
}

/** The bytes of `entries` as a tar, cut after `keep` bytes, as a dropped connection would leave it. */
async function truncated(entries: Spec[], keep: number): Promise<Readable> {
  const chunks: Buffer[] = [];
  for await (const c of archive(entries)) chunks.push(c as Buffer);
  return Readable.from([Buffer.concat(chunks).subarray(0, keep)]);
}

const header = (stat: object): string => Buffer.from(JSON.stringify(stat)).toString("base64");
const summary = (children: Awaited<ReturnType<typeof listArchiveChildren>>): Array<[string, string, number]> =>
  children.map((c) => [c.name, c.kind, c.size] as [string, string, number]).sort(([a], [b]) => (a < b ? -1 : 1));

describe("decodePathStat", () => {
  it("reads Docker's X-Docker-Container-Path-Stat header", () => {
    const stat = decodePathStat(header({ name: "passwd", size: 1234, mode: 420, mtime: "2024-03-01T10:00:00.123456789Z", linkTarget: "" }));
    assert.deepEqual(stat, { name: "passwd", size: 1234, mode: 420, mtime: new Date("2024-03-01T10:00:00.123Z"), linkTarget: "" });
  });

  it("reads a directory and a symlink with their FileMode bits", () => {
    const dir = decodePathStat(header({ name: "etc", size: 4096, mode: DIR + 0o755, mtime: "2024-03-01T10:00:00Z", linkTarget: "" }));
    assert.ok(dir && isDirectoryMode(dir.mode) && !isSymlinkMode(dir.mode));
    const link = decodePathStat(header({ name: "sh", size: 7, mode: SYMLINK + 0o777, mtime: "2024-03-01T10:00:00Z", linkTarget: "/bin/busybox" }));
    assert.ok(link && isSymlinkMode(link.mode) && !isDirectoryMode(link.mode));
    assert.equal(link.linkTarget, "/bin/busybox");
  });

  it("takes the first value of a repeated header", () => {
    assert.equal(decodePathStat([header({ name: "a" }), header({ name: "b" })])?.name, "a");
  });

  it("fills in missing fields", () => {
    const stat = decodePathStat(header({ name: "x" }));
    assert.deepEqual(stat && { ...stat, mtime: stat.mtime.getTime() }, { name: "x", size: 0, mode: 0, mtime: 0, linkTarget: "" });
  });

  for (const bad of [undefined, "", [], "not base64 at all!", Buffer.from("{not json").toString("base64"), Buffer.from("null").toString("base64")]) {
    it(`gives undefined for ${JSON.stringify(bad)}`, () => assert.equal(decodePathStat(bad), undefined));
  }
});

describe("isDirectoryMode / isSymlinkMode", () => {
  const cases: [string, number, boolean, boolean][] = [
    ["a plain file", 0o644, false, false],
    ["a directory (1<<31)", DIR + 0o755, true, false],
    ["a symlink (1<<27)", SYMLINK + 0o777, false, true],
    ["a setuid file", 2 ** 23 + 0o755, false, false],
    ["a directory with the sticky bit (1<<20)", DIR + 2 ** 20 + 0o777, true, false],
    ["zero", 0, false, false],
  ];
  for (const [what, mode, dir, link] of cases) {
    it(`reads ${what}`, () => {
      assert.equal(isDirectoryMode(mode), dir);
      assert.equal(isSymlinkMode(mode), link);
    });
  }
});

describe("listArchiveChildren", () => {
  it("lists a folder's direct children from an archive of that folder", async () => {
    const children = await listArchiveChildren(
      archive([{ name: "etc/" }, { name: "etc/passwd", body: "root:x:0:0\n" }, { name: "etc/ssl/" }, { name: "etc/ssl/certs/" }, { name: "etc/ssl/certs/x", body: "cert" }]),
      "/etc",
    );
    assert.deepEqual(summary(children), [
      ["passwd", "file", 11],
      ["ssl", "directory", 0],
    ]);
    assert.deepEqual(children.find((c) => c.name === "passwd")?.mtime, MTIME);
  });

  it("accepts the folder with a trailing slash, or as a deeper path", async () => {
    assert.deepEqual(summary(await listArchiveChildren(archive([{ name: "etc/" }, { name: "etc/hosts", body: "h" }]), "/etc/")), [["hosts", "file", 1]]);
    assert.deepEqual(summary(await listArchiveChildren(archive([{ name: "lib/" }, { name: "lib/x.so", body: "xx" }]), "/usr/local/lib")), [["x.so", "file", 2]]);
  });

  it("counts a child folder known only through deeper entries as a directory", async () => {
    const children = await listArchiveChildren(archive([{ name: "etc/" }, { name: "etc/ssl/certs/x", body: "cert" }, { name: "etc/ssl/openssl.cnf", body: "c" }]), "/etc");
    assert.deepEqual(summary(children), [["ssl", "directory", 0]]);
  });

  it("tells symlinks and other entries apart", async () => {
    const pack = tar.pack();
    pack.entry({ name: "dev/", type: "directory" });
    pack.entry({ name: "dev/stdout", type: "symlink", linkname: "/proc/self/fd/1" });
    pack.entry({ name: "dev/fifo", type: "fifo" });
    pack.finalize();
    assert.deepEqual(summary(await listArchiveChildren(pack as unknown as Readable, "/dev")), [
      ["fifo", "other", 0],
      ["stdout", "symlink", 0],
    ]);
  });

  it('lists the root from "./"-prefixed names', async () => {
    const children = await listArchiveChildren(
      archive([{ name: "./" }, { name: "./bin/" }, { name: "./bin/sh", type: "symlink", linkname: "busybox" }, { name: "./etc/passwd", body: "p" }, { name: "./.dockerenv", body: "" }]),
      "/",
    );
    assert.deepEqual(summary(children), [
      [".dockerenv", "file", 0],
      ["bin", "directory", 0],
      ["etc", "directory", 0],
    ]);
  });

  it("lists the root from bare names", async () => {
    const children = await listArchiveChildren(
      archive([{ name: "bin/" }, { name: "bin/busybox", body: "elf" }, { name: "etc/" }, { name: "etc/hostname", body: "h" }, { name: "hello.txt", body: "hello" }]),
      "/",
    );
    assert.deepEqual(summary(children), [
      ["bin", "directory", 0],
      ["etc", "directory", 0],
      ["hello.txt", "file", 5],
    ]);
  });

  it("gives no children for an empty folder", async () => {
    assert.deepEqual(await listArchiveChildren(archive([{ name: "tmp/" }]), "/tmp"), []);
  });

  it("rejects an archive cut off in the middle of a file", async () => {
    await assert.rejects(listArchiveChildren(await truncated([{ name: "etc/" }, { name: "etc/big", body: "x".repeat(5000) }], 512 * 3), "/etc"));
  });

  it("rejects an archive that is not a tar", async () => {
    await assert.rejects(listArchiveChildren(Readable.from([Buffer.alloc(1024, 7)]), "/"));
  });
});

describe("readArchiveFile", () => {
  it("returns the file's bytes", async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 10, 13]);
    assert.deepEqual(await readArchiveFile(archive([{ name: "blob.bin", body: bytes }]), 1024), bytes);
  });

  it("returns the first regular file, skipping folders and links before it", async () => {
    const got = await readArchiveFile(archive([{ name: "a/" }, { name: "link", type: "symlink", linkname: "a/x" }, { name: "a/x", body: "first" }, { name: "a/y", body: "second" }]), 1024);
    assert.equal(got.toString(), "first");
  });

  it("accepts a file of exactly maxBytes", async () => {
    assert.equal((await readArchiveFile(archive([{ name: "f", body: "12345" }]), 5)).toString(), "12345");
  });

  it("reads an empty file", async () => {
    assert.equal((await readArchiveFile(archive([{ name: "empty", body: "" }]), 5)).length, 0);
  });

  it("rejects a file bigger than maxBytes, naming the sizes", async () => {
    await assert.rejects(readArchiveFile(archive([{ name: "big.log", body: "x".repeat(2000) }]), 1000), /^Error: big\.log is 2000 bytes, more than the 1000/);
  });

  it("rejects an archive cut off in the middle of the file", async () => {
    await assert.rejects(readArchiveFile(await truncated([{ name: "f", body: "x".repeat(5000) }], 512 * 3), 10_000));
  });

  it("rejects an archive with no regular file", async () => {
    await assert.rejects(readArchiveFile(archive([{ name: "dir/" }, { name: "ln", type: "symlink", linkname: "dir" }]), 1000), /holds no regular file/);
    await assert.rejects(readArchiveFile(archive([]), 1000), /holds no regular file/);
  });
});
