// The 9P2000.L server against a real host folder, driven with the message
// bytes the Linux client sends (encoded with the same wire codec).
import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HostShareServer, NOTIFY_SIZE } from "../../../../src/core/shares/host-share-server";
import { RLERROR, T, WireReader, WireWriter } from "../../../../src/core/shares/ninep-wire";

let dir = "";
let outside = "";
let server: HostShareServer;
let tag = 1;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "hangar-9p-"));
  outside = fs.mkdtempSync(path.join(os.tmpdir(), "hangar-9p-outside-"));
  fs.writeFileSync(path.join(outside, "secret"), "not for the guest");
  fs.writeFileSync(path.join(dir, "hello.txt"), "hello from the host\n");
  fs.mkdirSync(path.join(dir, "sub"));
  fs.writeFileSync(path.join(dir, "sub", "deep.txt"), "deep\n");
  server = new HostShareServer([{ name: "s0", hostPath: dir }]);
});

afterEach(() => {
  server.closeAll();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(outside, { recursive: true, force: true });
});

/** Sends one T-message; returns a reader over the reply body, or throws the Rlerror errno. */
function call(type: number, build: (w: WireWriter) => void = () => undefined): WireReader {
  const w = WireWriter.message(type, tag++);
  build(w);
  const reply = server.handle(w.finish());
  const r = new WireReader(reply);
  r.u32();
  const rtype = r.u8();
  r.u16();
  if (rtype === RLERROR) throw new Error(`errno ${r.u32()}`);
  assert.equal(rtype, type + 1);
  return r;
}

function errnoOf(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    return Number(/errno (\d+)/.exec((err as Error).message)?.[1]);
  }
  return 0;
}

function attach(fid = 1): void {
  call(T.version, (w) => w.u32(512 * 1024).str("9P2000.L"));
  call(T.attach, (w) => w.u32(fid).u32(0xffffffff).str("root").str("").u32(0));
}

function walk(fid: number, newFid: number, names: string[]): number {
  return call(T.walk, (w) => {
    w.u32(fid).u32(newFid).u16(names.length);
    for (const n of names) w.str(n);
  }).u16();
}

function readAll(fid: number): string {
  call(T.lopen, (w) => w.u32(fid).u32(0));
  const r = call(T.read, (w) => w.u32(fid).u64(0n).u32(65536));
  return Buffer.from(r.bytesOf(r.u32())).toString("utf8");
}

function listDir(fid: number): string[] {
  call(T.lopen, (w) => w.u32(fid).u32(0o200000));
  const r = call(T.readdir, (w) => w.u32(fid).u64(0n).u32(65536));
  const data = new WireReader(r.bytesOf(r.u32()));
  const names: string[] = [];
  try {
    for (;;) {
      data.u8();
      data.u32();
      data.u64();
      data.u64();
      data.u8();
      names.push(data.str());
    }
  } catch {
    return names;
  }
}

test("the root lists the shares; a share lists its host folder", () => {
  attach();
  assert.deepEqual(listDir(1), [".", "..", "s0"]);
  assert.equal(walk(1, 2, ["s0"]), 1);
  assert.deepEqual(listDir(2), [".", "..", "hello.txt", "sub"]);
});

test("reads host files and sees host edits at once (no cache)", () => {
  attach();
  walk(1, 2, ["s0", "hello.txt"]);
  assert.equal(readAll(2), "hello from the host\n");
  fs.writeFileSync(path.join(dir, "hello.txt"), "edited\n");
  walk(1, 3, ["s0", "hello.txt"]);
  assert.equal(readAll(3), "edited\n");
});

test("creates, writes, renames (open fids follow) and deletes on the host", () => {
  attach();
  walk(1, 2, ["s0"]);
  walk(2, 3, []);
  call(T.lcreate, (w) => w.u32(3).str("new.txt").u32(2 /* O_RDWR */).u32(0o755).u32(0));
  const written = call(T.write, (w) => {
    const data = Buffer.from("written by the guest");
    w.u32(3).u64(0n).u32(data.length).raw(data);
  }).u32();
  assert.equal(written, 20);
  assert.equal(fs.readFileSync(path.join(dir, "new.txt"), "utf8"), "written by the guest");
  assert.ok((fs.statSync(path.join(dir, "new.txt")).mode & 0o111) !== 0, "mode from the guest");
  call(T.mkdir, (w) => w.u32(2).str("made").u32(0o755).u32(0));
  walk(2, 10, ["made"]);
  call(T.renameat, (w) => w.u32(2).str("new.txt").u32(10).str("new.txt"));
  assert.equal(
    errnoOf(() => call(T.renameat, (w) => w.u32(2).str("new.txt").u32(2).str("x"))),
    2,
    "ENOENT for a missing source",
  );
  // The open fid followed the rename: a getattr on it sees the moved file.
  const r = call(T.getattr, (w) => w.u32(3).u64(0x7ffn));
  r.u64();
  r.bytesOf(13);
  r.u32();
  r.u32();
  r.u32();
  r.u64();
  r.u64();
  assert.equal(r.u64(), 20n);
  fs.rmSync(path.join(dir, "made"), { recursive: true });
  walk(2, 4, ["sub"]);
  call(T.renameat, (w) => w.u32(2).str("sub").u32(2).str("moved"));
  // The fid of the renamed directory follows it.
  walk(4, 5, ["deep.txt"]);
  assert.equal(readAll(5), "deep\n");
  call(T.unlinkat, (w) => w.u32(4).str("deep.txt").u32(0));
  call(T.unlinkat, (w) => w.u32(2).str("moved").u32(0x200));
  assert.deepEqual(fs.readdirSync(dir).sort(), ["hello.txt"]);
});

test("the guest cannot leave its share: '..' stops at the root, symlinks are not followed on the host", () => {
  attach();
  walk(1, 2, ["s0"]);
  assert.equal(walk(2, 3, ["..", "..", ".."]), 3);
  assert.deepEqual(listDir(3), [".", "..", "s0"], "'..' above the root stays at the virtual root");
  fs.symlinkSync(outside, path.join(dir, "escape"));
  fs.symlinkSync(path.join(outside, "secret"), path.join(dir, "secret-link"));
  // The walk stops at the symlink (the guest must read the link and resolve it itself).
  assert.equal(walk(2, 4, ["escape", "secret"]), 1);
  walk(2, 5, ["escape"]);
  assert.equal(call(T.readlink, (w) => w.u32(5)).str(), outside);
  walk(2, 6, ["secret-link"]);
  assert.equal(
    errnoOf(() => call(T.lopen, (w) => w.u32(6).u32(0))),
    40,
    "ELOOP: opening a symlink does not follow it",
  );
  assert.equal(
    errnoOf(() => walk(2, 7, ["a/b"])),
    22,
    "a name with a slash is refused",
  );
  assert.equal(
    errnoOf(() => call(T.lcreate, (w) => w.u32(2).str("..").u32(2).u32(0o644).u32(0))),
    22,
  );
});

test("open fids survive export and import (a saved and restored guest) and reopen by path", () => {
  attach();
  walk(1, 2, ["s0", "hello.txt"]);
  call(T.lopen, (w) => w.u32(2).u32(0));
  const exported = server.exportFids();
  const restored = new HostShareServer([{ name: "s0", hostPath: dir }]);
  restored.importFids(JSON.parse(JSON.stringify(exported)));
  server.closeAll();
  server = restored;
  const r = call(T.read, (w) => w.u32(2).u64(6n).u32(100));
  assert.equal(Buffer.from(r.bytesOf(r.u32())).toString(), "from the host\n");
});

test("getattr reports host size, mode and times; setattr truncates and sets times", () => {
  attach();
  walk(1, 2, ["s0", "hello.txt"]);
  const r = call(T.getattr, (w) => w.u32(2).u64(0x7ffn));
  r.u64();
  assert.equal(r.u8(), 0, "a regular file's qid");
  r.u32();
  r.u64();
  assert.equal(r.u32(), fs.statSync(path.join(dir, "hello.txt")).mode);
  call(T.setattr, (w) =>
    w
      .u32(2)
      .u32(0x8 | 0x20 | 0x100)
      .u32(0)
      .u32(0)
      .u32(0)
      .u64(5n)
      .u64(0n)
      .u64(0n)
      .u64(1_600_000_000n)
      .u64(0n),
  );
  const st = fs.statSync(path.join(dir, "hello.txt"));
  assert.equal(st.size, 5);
  assert.equal(Math.round(st.mtimeMs / 1000), 1_600_000_000);
});

test("a truncate to the file's own size or to NOTIFY_SIZE (the watch helper's IN_MODIFY) and a chown change nothing on the host and are not reported as the guest's changes", () => {
  attach();
  walk(1, 2, ["s0", "hello.txt"]);
  const file = path.join(dir, "hello.txt");
  fs.utimesSync(file, 1_600_000_000, 1_600_000_000);
  const before = fs.statSync(file);
  const reported: string[] = [];
  server.onGuestChange = (share, rel) => reported.push(`${share}/${rel}`);
  // What ftruncate(2) sends: the size, with mtime and ctime "now".
  const truncate = (size: bigint): void =>
    void call(T.setattr, (w) =>
      w
        .u32(2)
        .u32(0x8 | 0x20 | 0x40)
        .u32(0)
        .u32(0)
        .u32(0)
        .u64(size)
        .u64(0n)
        .u64(0n)
        .u64(0n)
        .u64(0n),
    );
  truncate(BigInt(NOTIFY_SIZE));
  truncate(BigInt(before.size));
  call(T.setattr, (w) =>
    w
      .u32(2)
      .u32(0x2 | 0x4)
      .u32(0)
      .u32(1000)
      .u32(1000)
      .u64(0n)
      .u64(0n)
      .u64(0n)
      .u64(0n)
      .u64(0n),
  );
  const after = fs.statSync(file);
  assert.equal(after.size, before.size);
  assert.equal(after.mtimeMs, before.mtimeMs);
  assert.equal(fs.readFileSync(file, "utf8"), "hello from the host\n");
  assert.deepEqual(reported, []);
  // A real truncate is a change, reported.
  truncate(5n);
  assert.equal(fs.statSync(file).size, 5);
  assert.deepEqual(reported, ["s0/hello.txt"]);
});

test("unknown messages and unknown fids are errors, not crashes", () => {
  attach();
  assert.equal(
    errnoOf(() => call(T.getattr, (w) => w.u32(99).u64(0x7ffn))),
    9,
    "EBADF",
  );
  assert.equal(
    errnoOf(() => call(T.xattrwalk, (w) => w.u32(1).u32(2).str("user.x"))),
    95,
  );
  assert.equal(
    errnoOf(() => call(61)),
    95,
  );
  assert.equal(
    errnoOf(() => call(T.walk, (w) => w.u32(1))),
    5,
    "a truncated message is EIO",
  );
});
