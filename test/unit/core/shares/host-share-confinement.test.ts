// The 9P server is the trust boundary for host files: a hostile guest sends
// crafted 9P messages while host names are swapped for symlinks to a folder
// outside the share, and nothing outside (a sentinel file and its folder)
// may be read, changed, created or reported; nothing it creates or chmods is
// setuid/setgid on the host.
import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PINNED } from "../../../../src/core/shares/confined-dir";
import { HostShareServer } from "../../../../src/core/shares/host-share-server";
import { T } from "../../../../src/core/shares/ninep-wire";
import { errnoOf, NinePClient, O_RDONLY, O_RDWR, O_WRONLY, SET_MODE, SET_SIZE } from "./ninep-test-client";

const ENOENT = 2,
  EXDEV = 18,
  ENOTDIR = 20,
  ELOOP = 40,
  EOPNOTSUPP = 95;
const SENTINEL = "outside the share: must never change\n";

let dir = "";
let dir2 = "";
let outside = "";
let secret = "";
let server: HostShareServer;
let c: NinePClient;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "hangar-9p-in-"));
  dir2 = fs.mkdtempSync(path.join(os.tmpdir(), "hangar-9p-in2-"));
  outside = fs.mkdtempSync(path.join(os.tmpdir(), "hangar-9p-outside-"));
  secret = path.join(outside, "secret");
  fs.writeFileSync(secret, SENTINEL, { mode: 0o644 });
  fs.chmodSync(secret, 0o644);
  fs.writeFileSync(path.join(dir, "f.txt"), "inside\n");
  fs.mkdirSync(path.join(dir, "d"));
  fs.writeFileSync(path.join(dir, "d", "secret"), "inside d\n");
  fs.symlinkSync(outside, path.join(dir, "escape"));
  fs.symlinkSync(secret, path.join(dir, "secret-link"));
  server = new HostShareServer([
    { name: "s0", hostPath: dir },
    { name: "s1", hostPath: dir2 },
  ]);
  c = new NinePClient(server);
  c.attach(1);
  c.walk(1, 2, ["s0"]);
});

afterEach(() => {
  c.server.closeAll();
  for (const d of [dir, dir2, outside]) fs.rmSync(d, { recursive: true, force: true });
});

/** Nothing outside the share changed: the sentinel's content, mode and link count, and its folder's names. */
function assertOutsideUnchanged(): void {
  assert.deepEqual(fs.readdirSync(outside), ["secret"], "nothing created or removed outside the share");
  assert.equal(fs.readFileSync(secret, "utf8"), SENTINEL, "the sentinel's content");
  const st = fs.statSync(secret);
  assert.equal(st.mode & 0o7777, 0o644, "the sentinel's mode");
  assert.equal(st.nlink, 1, "no hard link to the sentinel");
}

/** What a hostile guest (or a second one sharing the folder) does between two requests: a share name becomes a symlink out. */
function swapForLink(rel: string, target: string): void {
  fs.renameSync(path.join(dir, rel), path.join(dir, `${rel}.old`));
  fs.symlinkSync(target, path.join(dir, rel));
}

test("a walk stops at a symlink and never continues from a symlink fid", () => {
  assert.equal(c.walk(2, 3, ["escape", "secret"]), 1, "the walk stops at the link");
  assert.equal(
    errnoOf(() => c.getattr(3)),
    9,
    "a partial walk makes no fid",
  );
  assert.equal(c.walk(2, 4, ["escape"]), 1);
  assert.equal(
    errnoOf(() => c.walk(4, 5, ["secret"])),
    ENOTDIR,
    "walk from a symlink fid",
  );
  assert.equal(
    errnoOf(() => c.walk(4, 5, [".."])),
    ENOTDIR,
    "even '..' from a symlink fid",
  );
  assert.equal(c.walk(4, 5, []), 0, "a clone of the symlink fid is fine");
  assert.equal(c.getattr(5).mode & 0o170000, 0o120000, "the fid is the link itself");
  assertOutsideUnchanged();
});

test("a fid walked inside keeps nothing when its folder becomes a symlink: getattr, open, readdir, walk", () => {
  c.walk(2, 3, ["d", "secret"]);
  c.walk(2, 4, ["d"]);
  swapForLink("d", outside);
  assert.equal(
    errnoOf(() => c.getattr(3)),
    ENOTDIR,
    "stat never reports the outside object",
  );
  assert.equal(
    errnoOf(() => c.lopen(3, O_RDONLY)),
    ENOTDIR,
    "open",
  );
  assert.equal(
    errnoOf(() => c.listDir(4)),
    ELOOP,
    "readdir of a folder that is now a link: lopen sees the link",
  );
  assert.equal(
    errnoOf(() => c.walk(4, 5, ["secret"])),
    ENOTDIR,
    "walk",
  );
  assert.equal(c.walk(2, 5, ["d", "secret"]), 1, "a fresh walk stops at the link");
  assert.equal(
    errnoOf(() => c.call(T.remove, (w) => w.u32(3))),
    ENOTDIR,
    "remove",
  );
  assertOutsideUnchanged();
});

test("readdir never lists an outside folder", () => {
  c.walk(2, 3, ["d"]);
  c.lopen(3, 0o200000);
  swapForLink("d", outside);
  // The fid was opened before the swap; its listing is made now.
  assert.equal(
    errnoOf(() => c.call(T.readdir, (w) => w.u32(3).u64(0n).u32(65536))),
    ENOTDIR,
  );
  assertOutsideUnchanged();
});

test("create, mkdir, mknod, symlink, unlink and rmdir under a symlinked folder are refused", () => {
  c.walk(2, 3, ["escape"]);
  assert.notEqual(
    errnoOf(() => c.lcreate(3, "created", O_RDWR, 0o644)),
    0,
    "lcreate under a symlink fid",
  );
  assert.notEqual(
    errnoOf(() => c.mkdir(3, "made", 0o755)),
    0,
    "mkdir under a symlink fid",
  );
  assert.notEqual(
    errnoOf(() => c.mknod(3, "node", 0o100644)),
    0,
    "mknod under a symlink fid",
  );
  assert.notEqual(
    errnoOf(() => c.symlink(3, "ln", "/")),
    0,
    "symlink under a symlink fid",
  );
  assert.notEqual(
    errnoOf(() => c.unlinkat(3, "secret")),
    0,
    "unlink under a symlink fid",
  );
  fs.mkdirSync(path.join(outside, "folder"));
  assert.notEqual(
    errnoOf(() => c.unlinkat(3, "folder", 0x200 /* AT_REMOVEDIR */)),
    0,
    "rmdir under a symlink fid",
  );
  fs.rmdirSync(path.join(outside, "folder"));
  // The same through a folder fid whose name was swapped after the walk.
  c.walk(2, 4, ["d"]);
  swapForLink("d", outside);
  assert.equal(
    errnoOf(() => c.lcreate(4, "created", O_RDWR, 0o644)),
    ENOTDIR,
  );
  assert.equal(
    errnoOf(() => c.lcreate(4, "secret", O_RDWR | 0o1000 /* O_TRUNC */, 0o644)),
    ENOTDIR,
    "create+truncate of an outside file",
  );
  assert.equal(
    errnoOf(() => c.mkdir(4, "made", 0o755)),
    ENOTDIR,
  );
  assert.equal(
    errnoOf(() => c.mknod(4, "node", 0o100644)),
    ENOTDIR,
  );
  assert.equal(
    errnoOf(() => c.symlink(4, "ln", "/")),
    ENOTDIR,
  );
  assert.equal(
    errnoOf(() => c.unlinkat(4, "secret")),
    ENOTDIR,
  );
  assert.equal(
    errnoOf(() => c.call(T.remove, (w) => w.u32(5))),
    9,
    "no such fid",
  );
  c.walk(2, 5, ["escape"]);
  c.call(T.remove, (w) => w.u32(5));
  assert.ok(!fs.existsSync(path.join(dir, "escape")), "removing a symlink removes the link itself");
  assertOutsideUnchanged();
});

test("setattr of size and mode never reaches through a link", () => {
  c.walk(2, 3, ["secret-link"]);
  c.setattr(3, SET_MODE, 0o600);
  assert.equal(
    errnoOf(() => c.setattr(3, SET_SIZE, 0, 0n)),
    ELOOP,
    "truncate of a symlink fid",
  );
  c.walk(2, 4, ["d", "secret"]);
  swapForLink("d", outside);
  assert.equal(
    errnoOf(() => c.setattr(4, SET_SIZE, 0, 0n)),
    ENOTDIR,
    "truncate through a swapped folder",
  );
  assert.equal(
    errnoOf(() => c.setattr(4, SET_MODE, 0o666)),
    ENOTDIR,
    "chmod through a swapped folder",
  );
  assertOutsideUnchanged();
});

test("an unopened fid whose file became a symlink is not truncated through it", () => {
  c.walk(2, 3, ["f.txt"]);
  swapForLink("f.txt", secret);
  assert.equal(
    errnoOf(() => c.setattr(3, SET_SIZE, 0, 0n)),
    ELOOP,
  );
  assert.equal(
    errnoOf(() => c.setattr(3, SET_MODE, 0o666)),
    0,
    "chmod of the link itself changes nothing",
  );
  assertOutsideUnchanged();
});

test("truncate and write through an open fid after its file was swapped for a symlink change the opened file only", () => {
  c.walk(2, 3, ["f.txt"]);
  c.lopen(3, O_RDWR);
  swapForLink("f.txt", secret);
  c.setattr(3, SET_SIZE, 0, 2n);
  assert.equal(c.write(3, "XY", 2n), 2);
  assert.equal(fs.readFileSync(path.join(dir, "f.txt.old"), "utf8"), "inXY", "the file the guest opened");
  assert.equal(c.read(3), "inXY");
  // A write-only handle too (the guest's `exec 3>file` then ftruncate).
  c.walk(2, 4, ["d", "secret"]);
  c.lopen(4, O_WRONLY);
  swapForLink("d", outside);
  c.setattr(4, SET_SIZE, 0, 0n);
  assert.equal(c.write(4, "w"), 1);
  assert.equal(fs.readFileSync(path.join(dir, "d.old", "secret"), "utf8"), "w");
  assertOutsideUnchanged();
});

test("a read-only open fid still truncates the object itself, not a path", () => {
  c.walk(2, 3, ["f.txt"]);
  c.lopen(3, O_RDONLY);
  c.setattr(3, SET_SIZE, 0, 1n);
  assert.equal(fs.readFileSync(path.join(dir, "f.txt"), "utf8"), "i", "truncate(2) of an open file by name still works");
  swapForLink("f.txt", secret);
  assert.equal(
    errnoOf(() => c.setattr(3, SET_SIZE, 0, 0n)),
    ELOOP,
  );
  assertOutsideUnchanged();
});

test("rename and link stay inside the share", () => {
  c.walk(2, 3, ["escape"]);
  c.walk(2, 4, ["f.txt"]);
  assert.notEqual(
    errnoOf(() => c.renameat(2, "f.txt", 3, "moved")),
    0,
    "rename into a symlinked folder",
  );
  assert.notEqual(
    errnoOf(() => c.rename(4, 3, "moved")),
    0,
    "Trename into a symlinked folder",
  );
  assert.notEqual(
    errnoOf(() => c.link(3, 4, "hl")),
    0,
    "hard link into a symlinked folder",
  );
  assert.notEqual(
    errnoOf(() => c.renameat(3, "secret", 2, "stolen")),
    0,
    "rename out of a symlinked folder",
  );
  assert.ok(fs.existsSync(path.join(dir, "f.txt")));
  // A hard link whose source path goes through a symlink.
  c.walk(2, 5, ["d", "secret"]);
  c.walk(2, 6, ["d"]);
  swapForLink("d", outside);
  assert.equal(
    errnoOf(() => c.link(2, 5, "hl")),
    ENOTDIR,
    "link from a source through a swapped folder",
  );
  assert.equal(
    errnoOf(() => c.renameat(6, "secret", 2, "stolen")),
    ENOTDIR,
    "rename from a swapped folder",
  );
  assert.equal(
    errnoOf(() => c.rename(5, 2, "stolen")),
    ENOTDIR,
    "Trename of a fid under a swapped folder",
  );
  assert.equal(
    errnoOf(() => c.renameat(2, "f.txt", 6, "moved")),
    ENOTDIR,
    "rename into a swapped folder",
  );
  assert.ok(fs.existsSync(path.join(dir, "f.txt")));
  assert.ok(!fs.existsSync(path.join(dir, "hl")) && !fs.existsSync(path.join(dir, "stolen")));
  // A symlink is an object in itself: renaming or linking the link is fine and leaves its target alone.
  c.walk(2, 7, ["secret-link"]);
  if (PINNED) {
    c.link(2, 7, "link-of-link");
    assert.ok(fs.lstatSync(path.join(dir, "link-of-link")).isSymbolicLink());
  } else {
    assert.equal(
      errnoOf(() => c.link(2, 7, "link-of-link")),
      1,
      "without /proc, where link(2) may follow a symlink, linking one is refused",
    );
  }
  c.renameat(2, "secret-link", 2, "renamed-link");
  assert.equal(fs.readlinkSync(path.join(dir, "renamed-link")), secret);
  assertOutsideUnchanged();
});

test("rename and link across shares are EXDEV", () => {
  c.walk(1, 3, ["s1"]);
  c.walk(2, 4, ["f.txt"]);
  assert.equal(
    errnoOf(() => c.renameat(2, "f.txt", 3, "f.txt")),
    EXDEV,
  );
  assert.equal(
    errnoOf(() => c.link(3, 4, "f.txt")),
    EXDEV,
  );
  assert.deepEqual(fs.readdirSync(dir2), []);
});

test("a chmod never makes a host file setuid or setgid; folders keep only the sticky bit", () => {
  c.walk(2, 3, ["f.txt"]);
  c.setattr(3, SET_MODE, 0o6755);
  assert.equal(fs.statSync(path.join(dir, "f.txt")).mode & 0o7777, 0o755);
  c.setattr(3, SET_MODE, 0o7777);
  assert.equal(fs.statSync(path.join(dir, "f.txt")).mode & 0o7777, 0o777, "no sticky bit on files either");
  c.walk(2, 4, ["d"]);
  c.setattr(4, SET_MODE, 0o7775);
  assert.equal(fs.statSync(path.join(dir, "d")).mode & 0o7777, 0o1775);
  // An open fid too (fchmod of the guest's open file).
  c.walk(2, 5, ["f.txt"]);
  c.lopen(5, O_RDWR);
  c.setattr(5, SET_MODE, 0o4700);
  assert.equal(fs.statSync(path.join(dir, "f.txt")).mode & 0o7777, 0o700);
});

test("created files and folders are never setuid or setgid", () => {
  const umask = process.umask();
  c.walk(2, 3, []);
  c.lcreate(3, "created", O_RDWR, 0o6777);
  assert.equal(fs.statSync(path.join(dir, "created")).mode & 0o7777, 0o777 & ~umask);
  c.mknod(2, "node", 0o106777);
  assert.equal(fs.statSync(path.join(dir, "node")).mode & 0o7777, 0o777 & ~umask);
  c.mkdir(2, "sgid", 0o2775);
  assert.equal(fs.statSync(path.join(dir, "sgid")).mode & 0o6000, 0, "mkdir 02775");
  c.mkdir(2, "suid", 0o4777);
  assert.equal(fs.statSync(path.join(dir, "suid")).mode & 0o6000, 0, "mkdir 04777");
  c.mkdir(2, "sticky", 0o1777);
  assert.equal(fs.statSync(path.join(dir, "sticky")).mode & 0o7777, 0o1777 & ~umask, "sticky folders are fine");
  assert.equal(
    errnoOf(() => c.mknod(2, "dev", 0o020666 /* S_IFCHR */)),
    EOPNOTSUPP,
    "no device nodes",
  );
  assert.equal(
    errnoOf(() => c.mknod(2, "fifo", 0o010666 /* S_IFIFO */)),
    EOPNOTSUPP,
    "no FIFOs",
  );
});

test("after a saved state is restored, a reopened file that became a symlink is not followed", () => {
  c.walk(2, 3, ["f.txt"]);
  c.lopen(3, O_RDWR);
  c.walk(2, 4, ["d", "secret"]);
  c.lopen(4, O_RDWR);
  c.walk(2, 5, ["d"]);
  const exported = JSON.parse(JSON.stringify(server.exportFids())) as ReturnType<HostShareServer["exportFids"]>;
  server.closeAll();
  swapForLink("f.txt", secret);
  swapForLink("d", outside);
  server = new HostShareServer([{ name: "s0", hostPath: dir }]);
  server.importFids(exported);
  c.server = server;
  for (const fid of [3, 4]) {
    assert.notEqual(
      errnoOf(() => c.read(fid)),
      0,
      `read of fid ${fid}`,
    );
    assert.notEqual(
      errnoOf(() => c.write(fid, "pwned")),
      0,
      `write of fid ${fid}`,
    );
    assert.notEqual(
      errnoOf(() => c.setattr(fid, SET_SIZE, 0, 0n)),
      0,
      `truncate of fid ${fid}`,
    );
  }
  assert.equal(
    errnoOf(() => c.read(3)),
    ELOOP,
  );
  assert.equal(
    errnoOf(() => c.read(4)),
    ENOTDIR,
  );
  assert.notEqual(
    errnoOf(() => c.listDir(5)),
    0,
    "readdir of the swapped folder",
  );
  assertOutsideUnchanged();
  // Legitimate use is unchanged: put the names back and the same fids work again.
  fs.rmSync(path.join(dir, "f.txt"));
  fs.renameSync(path.join(dir, "f.txt.old"), path.join(dir, "f.txt"));
  assert.equal(c.read(3), "inside\n");
});

test("the virtual root and share roots are not the guest's to change", () => {
  assert.equal(
    errnoOf(() => c.lcreate(1, "x", O_RDWR, 0o644)),
    1,
    "EPERM at the virtual root",
  );
  assert.equal(
    errnoOf(() => c.setattr(2, SET_MODE, 0o6777)),
    1,
    "EPERM for a share root",
  );
  assert.equal(
    errnoOf(() => c.call(T.remove, (w) => w.u32(2))),
    1,
  );
  assert.equal(
    errnoOf(() => c.walk(1, 9, ["nope"])),
    ENOENT,
  );
});
