import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { DebEntry } from "../../../../src/core/boxes/debian/deb-archive";
import { ExtImageError, writeExtImage } from "../../../../src/core/boxes/disk-image/ext-image";
import { HangarError } from "../../../../src/core/util/errors";

/**
 * The images are checked with e2fsprogs, the reference for what Linux
 * accepts: e2fsck -fn must find nothing to fix, debugfs reads back what was
 * written. Those tools are required: without them these tests fail.
 */

// e2fsprogs installs into sbin, which a normal user's PATH often lacks (Homebrew's is keg-only).
const TOOL_PATH = [process.env.PATH ?? "", "/usr/sbin", "/sbin", "/usr/local/sbin", "/opt/homebrew/opt/e2fsprogs/sbin", "/usr/local/opt/e2fsprogs/sbin"].join(path.delimiter);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(tool: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(tool, args, { env: { ...process.env, PATH: TOOL_PATH }, timeout: 20_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === "ENOENT") {
        reject(new Error(`${tool} was not found: install e2fsprogs (apt-get install e2fsprogs, brew install e2fsprogs) to run the ext image tests.`));
      } else if (err && typeof err.code !== "number") {
        reject(err);
      } else {
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
      }
    });
  });
}

async function fsck(image: string): Promise<void> {
  const r = await run("e2fsck", ["-fn", image]);
  assert.equal(r.code, 0, `e2fsck -fn found problems:\n${r.stdout}${r.stderr}`);
  assert.doesNotMatch(r.stdout + r.stderr, /journal|corrupt|invalid|fix\?/i);
}

async function debugfs(image: string, command: string): Promise<string> {
  const r = await run("debugfs", ["-R", command, image]);
  assert.equal(r.code, 0, `debugfs -R "${command}" failed:\n${r.stderr}`);
  // debugfs reports a missing path on stderr and still exits 0.
  assert.doesNotMatch(r.stderr, /not found|error|bad/i, `debugfs -R "${command}":\n${r.stderr}`);
  return r.stdout;
}

const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

async function sha256File(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: 4 << 20 })) h.update(chunk as Buffer);
  return h.digest("hex");
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "hangar-ext-"));
  try {
    await body(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

const T = 1_700_000_000;
const IMAGE_MTIME = 1_700_001_234;
const entry = (p: string, type: DebEntry["type"], more: Partial<DebEntry> = {}): DebEntry => ({
  path: p,
  type,
  mode: type === "directory" ? 0o755 : type === "symlink" ? 0o777 : 0o644,
  uid: 0,
  gid: 0,
  mtime: T,
  ...more,
});
const file = (p: string, content: string | Buffer, more: Partial<DebEntry> = {}): DebEntry => entry(p, "file", { content: Buffer.from(content), ...more });

const big5 = randomBytes(5_000_000);
const big70 = randomBytes(70_000_000);
const slowTarget = `../../${"long-directory-name/".repeat(6)}target`;

/** Every kind of entry, children before (or without) their parents, and entries replaced by later ones. */
async function* sampleEntries(): AsyncGenerator<DebEntry> {
  yield file("usr/bin/tool", "#!/bin/sh\n", { mode: 0o4755 });
  yield entry("usr/bin", "directory", { mode: 0o750, uid: 5, gid: 6, mtime: T + 7 }); // after its child: updates the implicit directory
  yield entry("etc", "directory");
  yield file("etc/hostname", "box\n");
  yield file("etc/empty", "");
  yield file("home/vagrant/.profile", "PATH=/bin\n", { mode: 0o600, uid: 1000, gid: 1000 });
  yield entry("bin/sh", "symlink", { linkname: "dash" });
  yield entry("bin/fast59", "symlink", { linkname: "x".repeat(59) });
  yield entry("bin/slow60", "symlink", { linkname: "y".repeat(60) });
  yield entry("usr/lib/long-link", "symlink", { linkname: slowTarget });
  yield file("usr/bin/perl", "perl binary");
  yield entry("usr/bin/perl5.36", "hardlink", { linkname: "usr/bin/perl" });
  yield entry("usr/bin/perl-again", "hardlink", { linkname: "usr/bin/perl5.36" });
  yield entry("dev/null", "char-device", { mode: 0o666, devmajor: 1, devminor: 3 });
  yield entry("dev/sda", "block-device", { mode: 0o660, gid: 6, devmajor: 8, devminor: 0 });
  yield entry("dev/wide", "char-device", { devmajor: 300, devminor: 70000 });
  yield entry("run/initctl", "fifo", { mode: 0o600, uid: 70000, gid: 100000 }); // ids past 16 bits
  yield file("var/big5", big5);
  yield file("var/big70", big70);
  for (let i = 0; i < 3000; i++) yield file(`many/file-${String(i).padStart(4, "0")}`, `${i}\n`);
  // Replacements, as when a later package overwrites an earlier one's files.
  yield file("etc/motd", "old");
  yield file("etc/motd", "new", { mode: 0o640 });
  yield file("etc/a", "first a");
  yield entry("etc/b", "hardlink", { linkname: "etc/a" });
  yield file("etc/a", "second a");
  yield file("etc/was-file", "x");
  yield entry("etc/was-file", "symlink", { linkname: "hostname" });
}

test("a written image passes e2fsck and debugfs reads back every kind of entry", async () => {
  await withDir(async (dir) => {
    const image = path.join(dir, "root.img");
    const size = 8 * 1024 ** 3;
    const result = await writeExtImage(image, sampleEntries(), { sizeBytes: size, label: "hangar-root", mtime: IMAGE_MTIME });
    await fsck(image);
    assert.ok(result.inodesUsed > 3000 && result.blocksUsed > 75_000_000 / 4096, JSON.stringify(result));

    // Sparse: the host file holds the data and metadata, not 8 GiB.
    const st = await fs.stat(image);
    assert.equal(st.size, size);
    const dataBytes = 5_000_000 + 70_000_000 + 3020 * 4096;
    assert.ok(st.blocks * 512 >= 75_000_000 && st.blocks * 512 < dataBytes + 8 * 1024 ** 2, `the image takes ${st.blocks * 512} bytes on the host`);

    const stat = (p: string): Promise<string> => debugfs(image, `stat ${p}`);
    const hostname = await stat("/etc/hostname");
    assert.match(hostname, /Type: regular\s+Mode:\s+0644/);
    assert.match(hostname, /User:\s+0\s+Group:\s+0/);
    assert.match(hostname, /Size: 4\b/);
    assert.match(hostname, /mtime: 0x6553f100:/); // 1700000000
    assert.equal(await debugfs(image, "cat /etc/hostname"), "box\n");
    assert.match(await stat("/etc/empty"), /Size: 0\s[\s\S]*Blockcount: 0\b/);

    // Implicit parents: root-owned 0755 with the image's mtime; an explicit entry coming later updates one.
    for (const p of ["/home", "/home/vagrant", "/usr", "/var", "/"]) {
      const s = await stat(p);
      assert.match(s, /Type: directory\s+Mode:\s+0755/, p);
      assert.match(s, /User:\s+0\s+Group:\s+0/, p);
      assert.match(s, /mtime: 0x6553f5d2:/, p); // 1700001234
    }
    const usrBin = await stat("/usr/bin");
    assert.match(usrBin, /Mode:\s+0750/);
    assert.match(usrBin, /User:\s+5\s+Group:\s+6/);
    assert.match(usrBin, /mtime: 0x6553f107:/);
    assert.match(await stat("/usr/bin/tool"), /Mode:\s+04755/);
    const profile = await stat("/home/vagrant/.profile");
    assert.match(profile, /Mode:\s+0600/);
    assert.match(profile, /User:\s+1000\s+Group:\s+1000/);

    // Directory link counts: 2 + subdirectories (root: bin dev etc home lost+found many run usr var).
    assert.match(await stat("/"), /Links: 11\b/);
    assert.match(await stat("/usr"), /Links: 4\b/);
    assert.match(await stat("/etc"), /Links: 2\b/);
    assert.match(await stat("/lost+found"), /Mode:\s+0700[\s\S]*Size: 16384/);

    // Symlinks: under 60 bytes in the inode, from 60 in a block.
    assert.match(await stat("/bin/sh"), /Fast link dest: "dash"/);
    assert.match(await stat("/bin/fast59"), new RegExp(`Fast link dest: "x{59}"`));
    const slow60 = await stat("/bin/slow60");
    assert.doesNotMatch(slow60, /Fast link/);
    assert.match(slow60, /Size: 60\b[\s\S]*Blockcount: 8\b/);
    assert.equal(await debugfs(image, "cat /bin/slow60"), "y".repeat(60));
    assert.equal(await debugfs(image, "cat /usr/lib/long-link"), slowTarget);

    // Hard links share an inode and count their names.
    const perl = await stat("/usr/bin/perl");
    assert.match(perl, /Links: 3\b/);
    const ino = /Inode: (\d+)/.exec(perl)![1];
    for (const p of ["/usr/bin/perl5.36", "/usr/bin/perl-again"]) assert.match(await stat(p), new RegExp(`Inode: ${ino}\\b`));

    // Devices as Linux stores them: the old encoding when major and minor fit a byte, else the new one.
    assert.match(await stat("/dev/null"), /Type: character special\s+Mode:\s+0666[\s\S]*Device major\/minor number: 01:03/);
    assert.match(await stat("/dev/sda"), /Type: block special\s+Mode:\s+0660[\s\S]*Group:\s+6[\s\S]*Device major\/minor number: 08:00/);
    assert.match(await stat("/dev/wide"), /\(New-style\) Device major\/minor number: 300:70000/);
    assert.match(await stat("/run/initctl"), /Type: FIFO\s+Mode:\s+0600[\s\S]*User:\s+70000\s+Group:\s+100000/);

    // Large files through single and double indirect blocks, byte for byte.
    assert.match(await stat("/var/big70"), /\(DIND\)/);
    for (const [p, content] of [
      ["/var/big5", big5],
      ["/var/big70", big70],
    ] as const) {
      const out = path.join(dir, path.basename(p));
      await debugfs(image, `dump ${p} ${out}`);
      assert.equal(await sha256File(out), sha256(content), p);
      await fs.rm(out);
    }

    // A directory of 3000 entries spans blocks (and an indirect block).
    const many = await debugfs(image, "ls -l /many");
    const names = many.split("\n").filter((l) => / file-\d{4}\s*$/.test(l));
    assert.equal(names.length, 3000);
    assert.match(await stat("/many"), /\(IND\)/);
    assert.equal(await debugfs(image, "cat /many/file-2999"), "2999\n");

    // Later entries replace earlier ones; a hard link keeps the inode it was made to.
    assert.equal(await debugfs(image, "cat /etc/motd"), "new");
    assert.match(await stat("/etc/motd"), /Mode:\s+0640[\s\S]*Links: 1\b/);
    assert.equal(await debugfs(image, "cat /etc/a"), "second a");
    assert.equal(await debugfs(image, "cat /etc/b"), "first a");
    assert.match(await stat("/etc/b"), /Links: 1\b/);
    assert.match(await stat("/etc/was-file"), /Type: symlink[\s\S]*Fast link dest: "hostname"/);
  });
});

test("the superblock and journal are what Linux mounts as ext3: features, a clean empty journal", async () => {
  await withDir(async (dir) => {
    const image = path.join(dir, "small.img");
    await writeExtImage(image, [file("a", "a")], { sizeBytes: 256 * 1024 ** 2, mtime: T, uuid: Buffer.from("00112233445566778899aabbccddeeff", "hex"), label: "lbl" });
    await fsck(image);
    const head = (await run("dumpe2fs", ["-h", image])).stdout;
    assert.match(head, /Filesystem features:\s+has_journal (ext_attr )?filetype sparse_super large_file\s*$/m);
    assert.match(head, /Filesystem state:\s+clean$/m);
    assert.match(head, /Errors behavior:\s+Continue$/m);
    assert.match(head, /Filesystem OS type:\s+Linux$/m);
    assert.match(head, /Filesystem revision #:\s+1 \(dynamic\)$/m);
    assert.match(head, /Filesystem UUID:\s+00112233-4455-6677-8899-aabbccddeeff$/m);
    assert.match(head, /Filesystem volume name:\s+lbl$/m);
    assert.match(head, /Block size:\s+4096$/m);
    assert.match(head, /Blocks per group:\s+32768$/m);
    assert.match(head, /Inode size:\s+256$/m);
    assert.match(head, /First inode:\s+11$/m);
    assert.match(head, /Maximum mount count:\s+-1$/m);
    assert.match(head, /Journal inode:\s+8$/m);
    assert.match(head, /Journal backup:\s+inode blocks$/m);
    assert.match(head, /Total journal size:\s+16M$/m);
    assert.match(head, /Journal sequence:\s+0x00000001$/m);
    assert.match(head, /Journal start:\s+0$/m);
    const log = await debugfs(image, "logdump");
    assert.match(log, /Journal starts at block 0, transaction 1/);
    assert.doesNotMatch(log, /Found expected sequence|descriptor|commit/);
    // The journal's blocks follow one another.
    assert.match(await debugfs(image, "stat <8>"), /Size: 16777216[\s\S]*TOTAL: 4101\b/);
  });
});

test("a journal larger than the double-indirect range is mapped through the triple-indirect block", async () => {
  await withDir(async (dir) => {
    const image = path.join(dir, "tind.img");
    const journalBlocks = 12 + 1024 + 1024 * 1024 + 100;
    await writeExtImage(image, [file("a", "a")], { sizeBytes: 6 * 1024 ** 3, journalBlocks, mtime: T });
    await fsck(image);
    assert.match(await debugfs(image, "stat <8>"), /\(TIND\)/);
  });
});

test("the same entries and options give a byte-identical image", async () => {
  await withDir(async (dir) => {
    const entries = async function* (): AsyncGenerator<DebEntry> {
      for await (const e of sampleEntries()) if (e.path !== "var/big70") yield e;
    };
    const hashes: string[] = [];
    for (const name of ["one.img", "two.img"]) {
      const image = path.join(dir, name);
      await writeExtImage(image, entries(), { sizeBytes: 128 * 1024 ** 2 });
      hashes.push(await sha256File(image));
      await fs.rm(image);
    }
    assert.equal(hashes[0], hashes[1]);
  });
});

test("unsafe or incomplete entries are refused before the image file is made", async () => {
  await withDir(async (dir) => {
    const image = path.join(dir, "bad.img");
    const refused = async (entries: DebEntry[], pattern: RegExp): Promise<void> => {
      await assert.rejects(writeExtImage(image, entries, { sizeBytes: 64 * 1024 ** 2 }), (err: unknown) => {
        assert.ok(err instanceof ExtImageError && err instanceof HangarError, String(err));
        assert.match(err.message, pattern);
        return true;
      });
      await assert.rejects(fs.stat(image), /ENOENT/);
    };
    await refused([file("etc/../../escape", "x")], /"\.\." component/);
    await refused([file("/etc/passwd", "x")], /absolute/);
    await refused([entry("etc/link", "hardlink", { linkname: "etc/missing" })], /hard link etc\/link .*not a file/);
    await refused([entry("etc", "directory"), entry("etc/link", "hardlink", { linkname: "etc" })], /not a file/);
    await refused([entry("bin/sh", "symlink")], /symlink bin\/sh has no target/);
    await refused([entry("dev/null", "char-device", { devmajor: 1 })], /device dev\/null .*number/);
    await refused([entry("etc", "directory"), file("etc", "x")], /etc is a directory/);
    await refused([entry("bin", "symlink", { linkname: "usr/bin" }), file("bin/sh", "x")], /inside bin, which is a symlink/);
  });
});

test("an image too small for its content is refused with the size it needs, and that size works", async () => {
  await withDir(async (dir) => {
    const image = path.join(dir, "tight.img");
    const entries = [file("big", Buffer.alloc(30_000_000, 1)), ...Array.from({ length: 200 }, (_, i) => file(`d/f${i}`, "x"))];
    let needed = 0;
    await assert.rejects(writeExtImage(image, entries, { sizeBytes: 24 * 1024 ** 2 }), (err: unknown) => {
      assert.ok(err instanceof ExtImageError);
      const m = /too small.*needs at least (\d+) MiB/.exec(err.message);
      assert.ok(m, err.message);
      needed = Number(m[1]);
      return true;
    });
    await assert.rejects(fs.stat(image), /ENOENT/);
    assert.ok(needed > 30 && needed < 48, `needs ${needed} MiB`);
    await assert.rejects(writeExtImage(image, entries, { sizeBytes: (needed - 1) * 1024 ** 2 }), /too small/);
    await writeExtImage(image, entries, { sizeBytes: needed * 1024 ** 2 });
    await fsck(image);
    // Too few inodes is the same refusal.
    await assert.rejects(writeExtImage(image, entries, { sizeBytes: 64 * 1024 ** 2, inodeRatio: 1 << 20 }), /too small.*needs at least \d+ MiB/);
  });
});
