import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { CpioError, CpioWriter } from "../../../../src/core/boxes/cpio-writer";

const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

/**
 * The archive the kernel's usr/gen_init_cpio (Linux 6.1.192) writes with
 * `-t 0` (file mtimes 0, etc/odd's 1700000000) from this list:
 *   dir /dev 0755 0 0
 *   nod /dev/console 0600 0 0 c 5 1
 *   nod /dev/sda 0660 0 6 b 8 0
 *   dir /root 0700 0 0
 *   dir /sbin 0755 0 0
 *   file /sbin/init <"#!/bin/sh\necho hi\n"> 0755 0 0
 *   dir /bin 0755 0 0
 *   slink /bin/sh ../sbin/busybox 0777 0 0
 *   dir /etc 0755 0 0
 *   file /etc/odd <"odd"> 0644 0 0
 *   file /etc/empty <""> 0600 0 0
 *   dir /usr 0755 0 0
 *   file /usr/a <"hardlinked data!"> 0644 0 0 /usr/b /usr/c
 */
const GEN_INIT_CPIO_SHA256 = "24eb31900850522eda5144a5225c4ea18c7f18b20dc8a4d1736990516c682eae";

/** `devices: false` leaves out the device nodes (cpio cannot create them unless root). */
function sameAsGenInitCpio(devices = true): CpioWriter {
  const w = new CpioWriter().addDirectory("/dev");
  if (devices) w.addCharDevice("/dev/console", 5, 1).addBlockDevice("/dev/sda", 8, 0, { mode: 0o660, gid: 6 });
  return w
    .addDirectory("/root", { mode: 0o700 })
    .addDirectory("/sbin")
    .addFile("/sbin/init", "#!/bin/sh\necho hi\n", { mode: 0o755 })
    .addDirectory("/bin")
    .addSymlink("/bin/sh", "../sbin/busybox")
    .addDirectory("etc")
    .addFile("etc/odd", "odd", { mtime: 1_700_000_000 })
    .addFile("etc/empty", "", { mode: 0o600 })
    .addDirectory("usr")
    .addFile("usr/a", "hardlinked data!")
    .addHardlink("usr/b", "usr/a")
    .addHardlink("./usr/c", "/usr/a");
}

test("the bytes are exactly what the kernel's gen_init_cpio writes", () => {
  const archive = sameAsGenInitCpio().toBuffer();
  assert.equal(archive.length % 512, 0, "padded to 512 after the trailer");
  assert.equal(sha256(archive), GEN_INIT_CPIO_SHA256);
  // The first header, spelled out: inode 721 (0x2D1), a 0755 directory, nlink 2, device 3:1, namesize 4.
  assert.equal(archive.toString("latin1", 0, 110), "070701" + ["2D1", "41ED", "0", "0", "2", "0", "0", "3", "1", "0", "0", "4", "0"].map((f) => f.padStart(8, "0")).join(""));
  assert.equal(archive.toString("latin1", 110, 116), "dev\0\0\0", "name NUL-terminated, padded so header + name is a multiple of 4");
});

test("round trip through the system's cpio -idmv: files, modes, symlinks, hard links, devices", async (t) => {
  if (spawnSync("cpio", ["--version"]).error) assert.fail("The cpio program is needed for this test: apt-get install -y cpio");
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "hangar-cpio-"));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const big = randomBytes(100_001);
  const root = process.getuid?.() === 0;
  const w = sameAsGenInitCpio(root)
    .addFile("usr/lib/modules/6.1.0-37-686/kernel/fs/9p/9p.ko", big) // parents added on the way
    .addFile("bin/su", "setuid", { mode: 0o4755, mtime: 1_600_000_000 })
    .addDirectory("tmp", { mode: 0o1777 });
  const run = spawnSync("cpio", ["-idmv", "--no-absolute-filenames", ...(root ? [] : ["--no-preserve-owner"])], { cwd: dir, input: w.toBuffer() });
  assert.equal(run.status, 0, run.stderr.toString());
  const listed = run.stderr.toString().trim().split("\n").slice(0, -1); // -v lists each name; the last line counts blocks
  assert.deepEqual(listed.slice(0, root ? 4 : 2), root ? ["dev", "dev/console", "dev/sda", "root"] : ["dev", "root"], "insertion order");
  assert.ok(listed.indexOf("usr/lib") > 0 && listed.indexOf("usr/lib") < listed.indexOf("usr/lib/modules/6.1.0-37-686/kernel/fs/9p/9p.ko"), "parents come before children");
  assert.match(run.stderr.toString(), /^\d+ blocks$/m);

  const stat = (p: string) => fs.lstat(path.join(dir, p));
  assert.equal(await fs.readFile(path.join(dir, "sbin/init"), "utf8"), "#!/bin/sh\necho hi\n");
  assert.equal((await stat("sbin/init")).mode & 0o7777, 0o755);
  assert.equal((await stat("root")).mode & 0o7777, 0o700);
  assert.ok((await stat("root")).isDirectory());
  assert.equal((await stat("tmp")).mode & 0o7777, 0o1777);
  assert.equal((await stat("bin/su")).mode & 0o7777, 0o4755);
  assert.equal((await stat("bin/su")).mtimeMs, 1_600_000_000_000);
  assert.equal((await stat("etc/odd")).mtimeMs, 1_700_000_000_000);
  assert.equal((await stat("etc/empty")).size, 0);
  assert.ok((await stat("bin/sh")).isSymbolicLink());
  assert.equal(await fs.readlink(path.join(dir, "bin/sh")), "../sbin/busybox", "the target, without the NUL gen_init_cpio stores");
  assert.ok((await fs.readFile(path.join(dir, "usr/lib/modules/6.1.0-37-686/kernel/fs/9p/9p.ko"))).equals(big));
  assert.equal((await stat("usr/lib/modules/6.1.0-37-686")).mode & 0o7777, 0o755);
  const [a, b, c] = await Promise.all(["usr/a", "usr/b", "usr/c"].map(stat));
  assert.ok(a.ino === b.ino && b.ino === c.ino && a.nlink === 3, "one inode, three names");
  assert.equal(await fs.readFile(path.join(dir, "usr/b"), "utf8"), "hardlinked data!");
  if (root) {
    const console = await stat("dev/console");
    assert.ok(console.isCharacterDevice());
    assert.deepEqual([Math.floor(console.rdev / 256) & 0xfff, console.rdev & 0xff], [5, 1]);
    assert.equal(console.mode & 0o7777, 0o600);
    assert.ok((await stat("dev/sda")).isBlockDevice());
    assert.equal((await stat("dev/sda")).gid, 6);
  }
});

test("the same entries give the same bytes, plain and gzip; gzip has a fixed header", async () => {
  const make = (): CpioWriter => sameAsGenInitCpio().addFile("data", randomSeeded(300_000));
  const [one, two] = [make(), make()];
  assert.equal(sha256(one.toBuffer()), sha256(two.toBuffer()));
  const progress: number[] = [];
  const gz = await one.toGzip({ onProgress: (done) => progress.push(done) });
  assert.equal(sha256(gz), sha256(await two.toGzip()));
  assert.deepEqual([...gz.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3], "deflate, no flags, no name, mtime 0, max compression, Unix");
  assert.ok(gunzipSync(gz).equals(one.toBuffer()), "gunzip (which checks CRC and size) gives the archive back");
  assert.equal(progress.at(-1), one.toBuffer().length);
  assert.notEqual(sha256(await one.toGzip({ level: 1 })), sha256(gz), "the level is honoured");
  assert.notEqual(sha256(make().addFile("one-more", "x").toBuffer()), sha256(one.toBuffer()));
});

test("toGzip stops on abort", async () => {
  await assert.rejects(sameAsGenInitCpio().toGzip({ signal: AbortSignal.abort() }), { name: "AbortError" });
});

test("re-adding a directory updates it in place; other mistakes are refused with CpioError", () => {
  const w = new CpioWriter().addFile("etc/passwd", "root:x:0:0::/root:/bin/sh\n").addDirectory("etc", { mode: 0o700 });
  const archive = w.toBuffer().toString("latin1");
  assert.ok(archive.indexOf("etc\0") < archive.indexOf("etc/passwd\0"), "the implicit parent keeps its place before its child");
  assert.equal(archive.slice(14, 22), "000041C0", "and has the mode given later");
  assert.ok(w.has("/etc/passwd") && !w.has("etc/shadow"));
  const refused: Array<[string, () => unknown, RegExp]> = [
    ["duplicate file", () => w.addFile("etc/passwd", ""), /twice/],
    ["directory over a file", () => w.addDirectory("etc/passwd"), /file of that name/],
    ["file under a file", () => w.addFile("etc/passwd/x", ""), /not a directory/],
    ["climbing path", () => w.addFile("../etc/x", ""), /not a path/],
    ["inner ..", () => w.addFile("etc/../x", ""), /not a path/],
    ["empty path", () => w.addDirectory("/"), /not a path/],
    ["mode with type bits", () => w.addFile("x", "", { mode: 0o100644 }), /permission mode/],
    ["negative mtime", () => w.addFile("y", "", { mtime: -1 }), /mtime/],
    ["hard link to nothing", () => w.addHardlink("z", "nope"), /not a file already in it/],
    ["empty symlink target", () => w.addSymlink("s", ""), /target/],
  ];
  for (const [what, add, message] of refused) assert.throws(add, (err: unknown) => err instanceof CpioError && message.test((err as Error).message), what);
});

/** Reproducible pseudo-random bytes (the determinism test must not depend on chance). */
function randomSeeded(n: number): Buffer {
  const out = Buffer.alloc(n);
  let x = 0x12345678;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
