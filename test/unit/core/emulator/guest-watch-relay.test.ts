// The watch relay against its real guest helper script, run by busybox's sh
// as in the guest, on the host (the guest's TCP connection is the one stand-in:
// the relay's lines go to the script's stdin, its answers come back). What a
// guest's inotify then hears is the synced-folders and docker-volumes system
// tests' part; here: which folders the helper holds open as watched folders
// come and go, and that a changed file swapped for a symlink is not followed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdir, mkdtemp, readdir, readlink, rm, stat, symlink, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { GuestWatchRelay, WATCH_HELPER, WATCH_TOKEN_FILE } from "../../../../src/core/emulator/guest-watch-relay";
import type { V86TcpConnection } from "../../../../src/core/emulator/guest-tcp";

const TOKEN = "0123456789abcdef";

/** The helper script, reading its token from `tokenFile`, started as nc -e would start it for one connection (busybox's sh, as the guest's). */
function startHelper(tokenFile: string): ChildProcessWithoutNullStreams {
  return spawn("busybox", ["sh", "-c", WATCH_HELPER.replaceAll(WATCH_TOKEN_FILE, tokenFile)]);
}

/** A guest connection whose other end is the helper process; what the relay sends is also kept in `sent`. */
function connectionTo(helper: ChildProcessWithoutNullStreams, sent: string[] = []): V86TcpConnection {
  const handlers: Record<string, Array<(d?: Uint8Array) => void>> = {};
  const conn: V86TcpConnection = {
    state: "syn-sent",
    ack: 0,
    process: () => undefined,
    on: (event: string, h: (d?: Uint8Array) => void) => void (handlers[event] ??= []).push(h),
    write: (data) => {
      sent.push(new TextDecoder().decode(data));
      helper.stdin.write(data);
    },
    close: () => helper.stdin.end(),
  } as V86TcpConnection;
  helper.stdout.on("data", (d: Buffer) => handlers.data?.forEach((h) => h(new Uint8Array(d))));
  helper.on("exit", () => handlers.close?.forEach((h) => h()));
  setImmediate(() => {
    conn.state = "established";
    handlers.connect?.forEach((h) => h());
  });
  return conn;
}

/** The folders the helper process holds open now. */
async function heldFolders(pid: number): Promise<string[]> {
  const fds = await readdir(`/proc/${pid}/fd`);
  const targets = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => "")));
  return targets.filter((t) => t.startsWith("/") && !t.startsWith("/dev/") && !t.startsWith("/proc/")).sort();
}

async function until(what: string, ok: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test("folders watched on request are held while some watched folder needs them, let go after, and each add is answered once held", { skip: process.platform !== "linux" }, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-watch-relay-"));
  const helper = startHelper(path.join(dir, "token"));
  try {
    await writeFile(path.join(dir, "token"), `${TOKEN}\n`);
    const tree = path.join(dir, "share");
    for (const f of ["app/src", "app/lib", "other"]) await mkdir(path.join(tree, f), { recursive: true });
    const ready: string[] = [];
    const sent: string[] = [];
    const relay = new GuestWatchRelay(
      [],
      TOKEN,
      () => connectionTo(helper, sent),
      undefined,
      (id) => ready.push(id),
    );
    relay.helperStarted();
    // Guest paths are the host's here (the helper runs on the host): what it holds is checkable in /proc.
    const add = (id: string, rel: string): void => relay.add(id, { share: "s0", hostPath: path.join(tree, rel), guestPath: path.join(tree, rel), exclude: [], inShare: rel });
    add("app", "app");
    add("src", "app/src");
    await until("both adds answered", async () => ready.length === 2);
    assert.deepEqual(ready.sort(), ["app", "src"]);
    const all = ["app", "app/lib", "app/src"].map((f) => path.join(tree, f));
    assert.deepEqual(await heldFolders(helper.pid!), all);

    // app goes: app/src stays held for the other watched folder; the rest is let go.
    await relay.remove("app");
    await until("app and app/lib let go", async () => (await heldFolders(helper.pid!)).join() === path.join(tree, "app/src"));
    // A folder made on the host under a watched one is held; removed, let go.
    await mkdir(path.join(tree, "app/src/new"));
    await until("the new folder held", async () => (await heldFolders(helper.pid!)).includes(path.join(tree, "app/src/new")));
    await rm(path.join(tree, "app/src/new"), { recursive: true });
    await until("the removed folder let go", async () => !(await heldFolders(helper.pid!)).some((f) => f.includes("app/src/new")));
    // A descriptor let go is used again.
    add("other", "other");
    await until("other held", async () => (await heldFolders(helper.pid!)).includes(path.join(tree, "other")));
    assert.equal((await heldFolders(helper.pid!)).length, 2);

    // The guest links a watched folder to a host folder outside: the relay never follows it, so nothing there is named to the guest.
    const outside = path.join(dir, "outside");
    await mkdir(outside);
    await symlink(outside, path.join(tree, "other", "escape"));
    await writeFile(path.join(tree, "other", "seen.txt"), "x\n");
    await until("the new file named", async () => sent.join("").includes("/other/seen.txt"));
    await writeFile(path.join(outside, "secret.txt"), "x\n");
    await writeFile(path.join(tree, "other", "seen-after.txt"), "x\n");
    await until("the next file named", async () => sent.join("").includes("/other/seen-after.txt"));
    assert.doesNotMatch(sent.join(""), /secret\.txt|escape\//);
    assert.ok(!(await heldFolders(helper.pid!)).includes(outside));
    await relay.close();
  } finally {
    helper.kill();
    await rm(dir, { recursive: true, force: true });
  }
});

test("the helper refuses a connection without the token, and leaves a file that is a symlink, or leads off 9p, as it was", { skip: process.platform !== "linux" }, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-watch-helper-"));
  try {
    await writeFile(path.join(dir, "token"), `${TOKEN}\n`);
    const target = path.join(dir, "engine-file");
    await writeFile(target, "the guest's own file\n");
    await symlink(target, path.join(dir, "planted"));
    await writeFile(path.join(dir, "plain"), "a file on a disk, not on 9p\n");
    const run = (input: string): Promise<string> =>
      new Promise((resolve) => {
        const helper = startHelper(path.join(dir, "token"));
        let out = "";
        helper.stdout.on("data", (d: Buffer) => (out += d.toString()));
        helper.on("exit", () => resolve(out));
        helper.stdin.end(input);
      });
    assert.equal(await run(`wrong\nS -\n`), "", "no answer without the token");
    const lines = [`M ${path.join(dir, "planted")}`, `M ${path.join(dir, "plain")}`, `D ${path.join(dir, "planted")}`, "S -"];
    assert.equal(await run(`${TOKEN}\n${lines.join("\n")}\n`), "synced -\n");
    // Off 9p, the truncate to the notify size would really grow the file: it is never made.
    assert.equal((await stat(target)).size, "the guest's own file\n".length);
    assert.equal((await stat(path.join(dir, "plain"))).size, "a file on a disk, not on 9p\n".length);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
